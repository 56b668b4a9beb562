//! The unit texts: the etcd-member drop-in, and the address unit for platforms with no
//! metadata service that gives one.

use super::{Bootstrap, ClusterConfig, Platform, Protocol};

pub const ETCD_UNIT: &str = "etcd-member.service";
pub const DROPIN_NAME: &str = "20-clct-etcd-member.conf";
pub const ADDRESS_UNIT: &str = "etcd-address.service";
/// Where the address unit writes; a file of its own, so it never races coreos-metadata.
pub const ADDRESS_FILE: &str = "/run/metadata/etcd-address";
pub const WRAPPER: &str = "/usr/lib/flatcar/etcd-wrapper";

/// The unit that writes the address variables on `platform` and the file it writes them to:
/// its metadata service, or this config's own address unit where it has none.
pub fn address_source(platform: &Platform) -> (&'static str, &'static str) {
    if platform.needs_address_unit() {
        (ADDRESS_UNIT, ADDRESS_FILE)
    } else {
        ("coreos-metadata.service", "/run/metadata/flatcar")
    }
}

/// The `[Unit]`/`[Service]` drop-in that starts etcd with this config's flags.
pub fn etcd_member_dropin(c: &ClusterConfig) -> String {
    let mut s = String::new();
    let (host, env_file) = match &c.bootstrap {
        Bootstrap::Discovery { .. } => {
            let var = c.platform.etcd_address_var(c.public_address);
            let (unit, file) = address_source(&c.platform);
            s.push_str(&format!("[Unit]\nRequires={unit}\nAfter={unit}\n\n"));
            (format!("${{{var}}}"), Some(file))
        }
        Bootstrap::Static { members, this, .. } => (members[*this].address.clone(), None),
    };
    s.push_str("[Service]\n");
    if let Some(file) = env_file {
        s.push_str(&format!("EnvironmentFile={file}\n"));
    }
    if let Bootstrap::Static { members, this, .. } = &c.bootstrap {
        // The unit sets ETCD_NAME=%m; etcd refuses a --name flag that shadows it, so override it.
        s.push_str(&format!(
            "Environment=\"ETCD_NAME={}\"\n",
            members[*this].name
        ));
    }
    if !c.etcd_image_tag.is_empty() {
        s.push_str(&format!(
            "Environment=\"ETCD_IMAGE_TAG={}\"\n",
            c.etcd_image_tag
        ));
    }
    let mut peer_listen = format!("http://{host}:2380");
    let mut client_listen = "http://0.0.0.0:2379".to_string();
    let mut client_advertise = format!("http://{host}:2379");
    if c.legacy_ports {
        peer_listen.push_str(&format!(",http://{host}:7001"));
        client_listen.push_str(",http://0.0.0.0:4001");
        client_advertise.push_str(&format!(",http://{host}:4001"));
    }
    let mut flags = vec![
        format!("--listen-peer-urls=\"{peer_listen}\""),
        format!("--listen-client-urls=\"{client_listen}\""),
        format!("--initial-advertise-peer-urls=\"http://{host}:2380\""),
        format!("--advertise-client-urls=\"{client_advertise}\""),
    ];
    match &c.bootstrap {
        Bootstrap::Discovery {
            url,
            protocol: Protocol::V2,
            ..
        } => flags.push(format!("--discovery=\"{url}\"")),
        Bootstrap::Discovery {
            url,
            protocol: Protocol::V3 { endpoints },
            ..
        } => {
            // The token is the URL's last segment, as minted; the endpoints speak gRPC.
            let token = url.rsplit('/').next().unwrap_or_default();
            flags.push(format!("--discovery-token=\"{token}\""));
            flags.push(format!("--discovery-endpoints=\"{}\"", endpoints.join(",")));
        }
        Bootstrap::Static {
            members,
            cluster_token,
            ..
        } => {
            let cluster: Vec<String> = members
                .iter()
                .map(|m| format!("{}=http://{}:2380", m.name, m.address))
                .collect();
            flags.push(format!("--initial-cluster=\"{}\"", cluster.join(",")));
            flags.push("--initial-cluster-state=new".to_string());
            flags.push(format!("--initial-cluster-token=\"{cluster_token}\""));
        }
    }
    s.push_str("ExecStart=\n");
    s.push_str(&format!("ExecStart={WRAPPER} $ETCD_OPTS \\\n  "));
    s.push_str(&flags.join(" \\\n  "));
    s.push('\n');
    s
}

/// A oneshot unit that writes the source address of the default route as both the private and
/// the public address (systemd needs `$$` for a literal `$` and `%%` for `%`).
pub fn address_unit() -> String {
    format!(
        "[Unit]\n\
         Description=Find this machine's IPv4 address for etcd (no metadata service here)\n\
         Wants=network-online.target\n\
         After=network-online.target\n\
         Before={ETCD_UNIT}\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         RemainAfterExit=yes\n\
         ExecStart=/usr/bin/mkdir -p /run/metadata\n\
         ExecStart=/usr/bin/bash -c 'ip=$$(ip -4 -o route get 1.1.1.1 | sed -E \"s/.* src ([0-9.]+).*/\\\\1/\"); test -n \"$$ip\"; printf \"COREOS_CUSTOM_PRIVATE_IPV4=%%s\\\\nCOREOS_CUSTOM_PUBLIC_IPV4=%%s\\\\n\" \"$$ip\" \"$$ip\" > {ADDRESS_FILE}'\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n"
    )
}
