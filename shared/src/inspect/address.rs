//! What the peer URLs of a registry say about the network: where each host is (loopback,
//! link-local, private, public, or a name), and the mixes that keep members from reaching one
//! another.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The port etcd's peers listen on by default (2380; 7001 before etcd 2.1).
pub const PEER_PORT: u16 = 2380;

/// Where a peer URL's host is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// 127.0.0.0/8, ::1, `localhost`: only the machine itself.
    Loopback,
    /// 169.254.0.0/16, fe80::/10: only the local link.
    LinkLocal,
    /// 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier NAT), fc00::/7.
    Private,
    Public,
    /// A host name: where it resolves is not known here.
    Name,
}

/// A peer URL taken apart: `http(s)://host:port`, nothing more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerUrl {
    pub https: bool,
    /// Without IPv6 brackets.
    pub host: String,
    pub port: u16,
    pub scope: Scope,
}

impl PeerUrl {
    /// Reads a peer URL; the error says what etcd would refuse.
    pub fn parse(url: &str) -> Result<PeerUrl, String> {
        let bad = || format!("peer URL {url:?} is not http(s)://host:port");
        let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => return Err(bad()),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
        let port = port.parse::<u16>().map_err(|_| bad())?;
        let host = match host.strip_prefix('[') {
            Some(v6) => {
                let inner = v6.strip_suffix(']').ok_or_else(bad)?;
                inner.parse::<Ipv6Addr>().map_err(|_| bad())?;
                inner
            }
            None => host,
        };
        let name_ok = host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':');
        if host.is_empty() || !name_ok {
            return Err(bad());
        }
        Ok(PeerUrl {
            https,
            host: host.to_string(),
            port,
            scope: scope(host),
        })
    }
}

fn scope(host: &str) -> Scope {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => v4_scope(ip),
        Ok(IpAddr::V6(ip)) => match ip.to_ipv4_mapped() {
            Some(v4) => v4_scope(v4),
            None if ip.is_loopback() => Scope::Loopback,
            None if ip.segments()[0] & 0xffc0 == 0xfe80 => Scope::LinkLocal,
            None if ip.segments()[0] & 0xfe00 == 0xfc00 => Scope::Private,
            None => Scope::Public,
        },
        Err(_) if host.eq_ignore_ascii_case("localhost") => Scope::Loopback,
        Err(_) => Scope::Name,
    }
}

fn v4_scope(ip: Ipv4Addr) -> Scope {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Scope::Loopback
    } else if ip.is_link_local() {
        Scope::LinkLocal
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        Scope::Private
    } else {
        Scope::Public
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_placed() {
        for (url, scope) in [
            ("http://127.0.0.1:2380", Scope::Loopback),
            ("http://localhost:2380", Scope::Loopback),
            ("http://[::1]:2380", Scope::Loopback),
            ("http://169.254.10.1:2380", Scope::LinkLocal),
            ("http://[fe80::1]:2380", Scope::LinkLocal),
            ("http://10.0.0.1:2380", Scope::Private),
            ("http://172.16.5.4:2380", Scope::Private),
            ("http://192.168.1.2:2380", Scope::Private),
            ("http://100.64.0.1:2380", Scope::Private),
            ("http://[fd00::1]:2380", Scope::Private),
            ("http://[::ffff:10.0.0.1]:2380", Scope::Private),
            ("https://203.0.113.9:2380", Scope::Public),
            ("http://[2001:db8::1]:2380", Scope::Public),
            ("http://etcd-1.internal:2380", Scope::Name),
        ] {
            let p = PeerUrl::parse(url).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(p.scope, scope, "{url}");
        }
        let p = PeerUrl::parse("https://[2001:db8::1]:12380/").unwrap();
        assert_eq!(
            (p.https, p.host.as_str(), p.port),
            (true, "2001:db8::1", 12380)
        );
    }

    #[test]
    fn what_etcd_would_refuse_is_named() {
        for bad in [
            "10.0.0.1:2380",
            "http://10.0.0.1",
            "http://10.0.0.1:99999",
            "http://:2380",
            "http://[zz]:2380",
            "http://a b:2380",
            "ftp://h:1",
        ] {
            let e = PeerUrl::parse(bad).unwrap_err();
            assert!(e.contains("is not http(s)://host:port"), "{bad}: {e}");
        }
    }
}
