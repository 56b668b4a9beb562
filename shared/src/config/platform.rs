//! Where Flatcar runs, and which Afterburn variable holds each address there.

/// A platform and the `/run/metadata/flatcar` variables Afterburn writes on it (Flatcar's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Platform {
    /// The platform id Flatcar and Afterburn use (`ec2`, `gce`, ...); `metal` etc. for the rest.
    pub id: &'static str,
    pub label: &'static str,
    pub private_var: Option<&'static str>,
    pub public_var: Option<&'static str>,
    /// Whether `coreos-metadata.service` runs there and writes an address we can use.
    pub metadata_service: bool,
    /// A caveat the user should read, if any.
    pub note: Option<&'static str>,
}

/// Variables our own address unit writes where no metadata service gives one.
pub const CUSTOM_PRIVATE_VAR: &str = "COREOS_CUSTOM_PRIVATE_IPV4";
pub const CUSTOM_PUBLIC_VAR: &str = "COREOS_CUSTOM_PUBLIC_IPV4";

const fn cloud(
    id: &'static str,
    label: &'static str,
    private_var: Option<&'static str>,
    public_var: Option<&'static str>,
    note: Option<&'static str>,
) -> Platform {
    Platform {
        id,
        label,
        private_var,
        public_var,
        metadata_service: true,
        note,
    }
}

const fn custom(id: &'static str, label: &'static str, note: Option<&'static str>) -> Platform {
    Platform {
        id,
        label,
        private_var: None,
        public_var: None,
        metadata_service: false,
        note,
    }
}

pub const PLATFORMS: [Platform; 15] = [
    custom("metal", "Bare metal", None),
    cloud(
        "ec2",
        "AWS EC2",
        Some("COREOS_EC2_IPV4_LOCAL"),
        Some("COREOS_EC2_IPV4_PUBLIC"),
        Some("EC2 has a public IPv4 only if the instance was given one."),
    ),
    cloud(
        "gce",
        "Google Compute Engine",
        Some("COREOS_GCE_IP_LOCAL_0"),
        Some("COREOS_GCE_IP_EXTERNAL_0"),
        None,
    ),
    cloud(
        "azure",
        "Microsoft Azure",
        Some("COREOS_AZURE_IPV4_DYNAMIC"),
        Some("COREOS_AZURE_IPV4_VIRTUAL"),
        Some("Azure has a public (virtual) IPv4 only with a load-balanced endpoint."),
    ),
    cloud(
        "digitalocean",
        "DigitalOcean",
        Some("COREOS_DIGITALOCEAN_IPV4_PRIVATE_0"),
        Some("COREOS_DIGITALOCEAN_IPV4_PUBLIC_0"),
        None,
    ),
    cloud(
        "openstack",
        "OpenStack",
        Some("COREOS_OPENSTACK_IPV4_LOCAL"),
        Some("COREOS_OPENSTACK_IPV4_PUBLIC"),
        None,
    ),
    cloud(
        "hetzner",
        "Hetzner Cloud",
        Some("COREOS_HETZNER_PRIVATE_IPV4_0"),
        Some("COREOS_HETZNER_PUBLIC_IPV4"),
        Some("Hetzner has a private IPv4 only when the server is attached to a private network."),
    ),
    cloud(
        "akamai",
        "Akamai / Linode",
        Some("COREOS_AKAMAI_PRIVATE_IPV4_0"),
        Some("COREOS_AKAMAI_PUBLIC_IPV4_0"),
        None,
    ),
    cloud(
        "scaleway",
        "Scaleway",
        Some("COREOS_SCALEWAY_IPV4_PRIVATE"),
        Some("COREOS_SCALEWAY_IPV4_PUBLIC"),
        None,
    ),
    cloud(
        "proxmoxve",
        "Proxmox VE",
        Some("COREOS_PROXMOXVE_IPV4"),
        None,
        None,
    ),
    custom("qemu", "QEMU", None),
    custom("vmware", "VMware", None),
    custom(
        "kubevirt",
        "KubeVirt",
        Some("Afterburn writes no address on KubeVirt, so this config finds one itself."),
    ),
    custom(
        "oraclecloud",
        "Oracle Cloud",
        Some("Afterburn writes no address on Oracle Cloud, so this config finds one itself."),
    ),
    custom("other", "Anything else", None),
];

impl Platform {
    pub fn by_id(id: &str) -> Option<Platform> {
        PLATFORMS.iter().copied().find(|p| p.id == id)
    }

    /// The variable holding the address etcd should use; `None` where the platform has no such
    /// address (the caller warns and falls back).
    pub fn address_var(&self, public: bool) -> Option<&'static str> {
        if !self.metadata_service || self.private_var.is_none() {
            return Some(if public {
                CUSTOM_PUBLIC_VAR
            } else {
                CUSTOM_PRIVATE_VAR
            });
        }
        if public {
            self.public_var
        } else {
            self.private_var
        }
    }

    /// The variable etcd's URLs use: the public one when asked for and the platform has one,
    /// else the private one (the config warns about that fallback).
    pub fn etcd_address_var(&self, public: bool) -> &'static str {
        self.address_var(public)
            .or(self.address_var(false))
            .unwrap_or(CUSTOM_PRIVATE_VAR)
    }

    /// Whether this config must bring its own unit that finds the address.
    pub fn needs_address_unit(&self) -> bool {
        !self.metadata_service || self.private_var.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cloud_has_flatcars_variable_names() {
        let p = Platform::by_id("ec2").unwrap();
        assert_eq!(p.address_var(false), Some("COREOS_EC2_IPV4_LOCAL"));
        assert_eq!(p.address_var(true), Some("COREOS_EC2_IPV4_PUBLIC"));
        assert_eq!(
            Platform::by_id("scaleway").unwrap().address_var(false),
            Some("COREOS_SCALEWAY_IPV4_PRIVATE")
        );
        assert_eq!(
            Platform::by_id("proxmoxve").unwrap().address_var(true),
            None
        );
        for p in PLATFORMS {
            assert!(
                p.address_var(false).unwrap().starts_with("COREOS_"),
                "{}",
                p.id
            );
        }
    }

    #[test]
    fn etcd_uses_the_public_variable_only_where_there_is_one() {
        let ec2 = Platform::by_id("ec2").unwrap();
        assert_eq!(ec2.etcd_address_var(true), "COREOS_EC2_IPV4_PUBLIC");
        assert_eq!(ec2.etcd_address_var(false), "COREOS_EC2_IPV4_LOCAL");
        let px = Platform::by_id("proxmoxve").unwrap();
        assert_eq!(px.etcd_address_var(true), "COREOS_PROXMOXVE_IPV4");
        assert_eq!(
            Platform::by_id("metal").unwrap().etcd_address_var(true),
            CUSTOM_PUBLIC_VAR
        );
    }

    #[test]
    fn platforms_without_an_address_use_the_custom_variables() {
        for id in [
            "metal",
            "qemu",
            "vmware",
            "kubevirt",
            "oraclecloud",
            "other",
        ] {
            let p = Platform::by_id(id).unwrap();
            assert!(p.needs_address_unit(), "{id}");
            assert_eq!(p.address_var(false), Some(CUSTOM_PRIVATE_VAR));
            assert_eq!(p.address_var(true), Some(CUSTOM_PUBLIC_VAR));
        }
        assert!(!Platform::by_id("gce").unwrap().needs_address_unit());
        assert_eq!(Platform::by_id("nope"), None);
        let ids: std::collections::HashSet<_> = PLATFORMS.iter().map(|p| p.id).collect();
        assert_eq!(ids.len(), PLATFORMS.len());
    }
}
