//! Every message etcd 3.4–3.7 logs on its way through discovery, as its sources have them
//! (`v2discovery/discovery.go`, `v3discovery/discovery.go`, `etcdmain/etcd.go`,
//! `etcdserver/server.go` and `bootstrap.go`, `embed/config.go`, and the error texts those
//! return), each with a plain sentence, its cause and what to do. A message is matched by its
//! exact zap `msg`, or by a capnslog form (etcd 3.4's text logger) where `{name}` stands for a
//! value etcd printed; the sentence names values the same way, from zap's fields or the form.

/// What a message is about: the reader's verdict and the token's seats are worked out from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// etcd's start: the member's name, peer URLs, discovery URL and version.
    Start,
    /// The member's id.
    MemberId,
    /// Discovery goes through `--discovery-proxy`.
    Proxied,
    /// This member's own registration is in the token.
    FoundSelf,
    /// Another member's registration.
    FoundPeer,
    /// Fewer than `size` registered: etcd waits.
    Waiting,
    /// `size` registered: bootstrap goes on.
    Complete,
    /// This member registered (v3 discovery).
    Registered,
    /// The discovery service could not be read; etcd retries.
    Unreachable,
    Retry,
    /// etcd stopped with an error; its meaning is in the error (see [`ERRORS`]).
    Failed,
    /// The token already has `size` members and this one is not among them.
    Full,
    /// It became a v2 proxy instead of a member (etcd 3.4, 3.5).
    BecameProxy,
    /// Proxy mode at work (etcd 3.4, 3.5).
    Proxy,
    /// This member registered before, but its data directory holds no cluster.
    RegisteredBefore,
    DuplicateName,
    TokenUsed,
    /// Advice etcd prints after a failure (the failure's entry says it all).
    Advice,
    /// Discovery skipped: the data directory already holds a member (a restart).
    AlreadyInitialized,
    /// Neither discovery nor a static cluster names this member.
    NotConfigured,
    /// DNS SRV discovery.
    Srv,
    /// v2 discovery deprecated (3.6) or the v2 proxy gone.
    Deprecated,
    /// v3 discovery's registry held something it could not read.
    BadRegistry,
}

impl Topic {
    /// The topic a JSON answer names.
    pub fn from_name(name: &str) -> Option<Topic> {
        ALL.iter().copied().find(|t| t.as_str() == name)
    }

    /// Its name in JSON answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Start => "start",
            Topic::MemberId => "member-id",
            Topic::Proxied => "proxied",
            Topic::FoundSelf => "found-self",
            Topic::FoundPeer => "found-peer",
            Topic::Waiting => "waiting",
            Topic::Complete => "complete",
            Topic::Registered => "registered",
            Topic::Unreachable => "unreachable",
            Topic::Retry => "retry",
            Topic::Failed => "failed",
            Topic::Full => "full",
            Topic::BecameProxy => "became-proxy",
            Topic::Proxy => "proxy",
            Topic::RegisteredBefore => "registered-before",
            Topic::DuplicateName => "duplicate-name",
            Topic::TokenUsed => "token-used",
            Topic::Advice => "advice",
            Topic::AlreadyInitialized => "already-initialized",
            Topic::NotConfigured => "not-configured",
            Topic::Srv => "srv",
            Topic::Deprecated => "deprecated",
            Topic::BadRegistry => "bad-registry",
        }
    }
}

const ALL: [Topic; 23] = [
    Topic::Start,
    Topic::MemberId,
    Topic::Proxied,
    Topic::FoundSelf,
    Topic::FoundPeer,
    Topic::Waiting,
    Topic::Complete,
    Topic::Registered,
    Topic::Unreachable,
    Topic::Retry,
    Topic::Failed,
    Topic::Full,
    Topic::BecameProxy,
    Topic::Proxy,
    Topic::RegisteredBefore,
    Topic::DuplicateName,
    Topic::TokenUsed,
    Topic::Advice,
    Topic::AlreadyInitialized,
    Topic::NotConfigured,
    Topic::Srv,
    Topic::Deprecated,
    Topic::BadRegistry,
];

/// One message etcd logs.
#[derive(Debug)]
pub struct Message {
    /// zap's `msg` and capnslog's forms (`{name}` a value).
    pub forms: &'static [&'static str],
    /// The releases whose sources log it.
    pub versions: &'static str,
    pub topic: Topic,
    /// What it says, in a sentence (`{field}` filled in).
    pub says: &'static str,
    pub cause: &'static str,
    pub action: &'static str,
}

const NONE: &str = "";

pub const MESSAGES: &[Message] = &[
    Message {
        forms: &[
            "starting an etcd server",
            "etcd Version: {etcd-version}",
            "name = {name}",
            "discovery URL= {discovery-url}",
            "discovery proxy = {discovery-proxy}",
            "initial advertise peer URLs = {initial-advertise-peer-urls}",
        ],
        versions: "3.4–3.7",
        topic: Topic::Start,
        says: "etcd {etcd-version} starts as {name}.",
        cause: NONE,
        action: NONE,
    },
    Message {
        forms: &["starting local member", "starting member {local-member-id} in cluster {cluster-id}"],
        versions: "3.4–3.7",
        topic: Topic::MemberId,
        says: "The member runs as {local-member-id}: bootstrap got past discovery.",
        cause: NONE,
        action: NONE,
    },
    Message {
        forms: &["running proxy with discovery", "using proxy \"{proxy-url}\""],
        versions: "3.4–3.6",
        topic: Topic::Proxied,
        says: "etcd reaches the discovery service through the proxy {proxy-url} (--discovery-proxy).",
        cause: NONE,
        action: "If discovery cannot be reached, check that proxy first.",
    },
    Message {
        forms: &["found self from discovery server", "found self {self} in the cluster"],
        versions: "3.4–3.6",
        topic: Topic::FoundSelf,
        says: "This member's registration, {self}, is in the token.",
        cause: NONE,
        action: NONE,
    },
    Message {
        forms: &[
            "found peer from discovery server",
            "found peer from discovery service",
            "found peer {peer} in the cluster",
        ],
        versions: "3.4–3.7",
        topic: Topic::FoundPeer,
        says: "The token holds the member {peer}{memberKey}.",
        cause: NONE,
        action: NONE,
    },
    Message {
        forms: &[
            "found peers from discovery server; waiting for more",
            "found {found-peers} peer(s), waiting for {needed-peers} more",
        ],
        versions: "3.4–3.6",
        topic: Topic::Waiting,
        says: "{found-peers} member(s) registered so far; etcd waits for {needed-peers} more before the cluster can start.",
        cause: "The other machines have not registered yet: they are still booting, were never started, or cannot reach the discovery service.",
        action: "Boot the remaining machines with the same discovery URL; if they run, read their logs too.",
    },
    Message {
        forms: &["waiting for peers from discovery service"],
        versions: "3.6–3.7",
        topic: Topic::Waiting,
        says: "{found-peers} of {clusterSize} member(s) registered so far; etcd waits for the rest before the cluster can start.",
        cause: "The other machines have not registered yet: they are still booting, were never started, or cannot reach the discovery endpoints.",
        action: "Boot the remaining machines with the same discovery token and endpoints; if they run, read their logs too.",
    },
    Message {
        forms: &[
            "found all needed peers from discovery server",
            "found all needed peers from discovery service",
            "found {found-peers} needed peer(s)",
        ],
        versions: "3.4–3.7",
        topic: Topic::Complete,
        says: "All {found-peers} members are registered: discovery is done and the cluster can start.",
        cause: NONE,
        action: NONE,
    },
    Message {
        forms: &["register member itself successfully"],
        versions: "3.6–3.7",
        topic: Topic::Registered,
        says: "This member registered as {memberKey} ({memberInfo}).",
        cause: NONE,
        action: NONE,
    },
    Message {
        forms: &["discovery joined cluster successfully", "discovery got cluster successfully"],
        versions: "3.6–3.7",
        topic: Topic::Complete,
        says: "v3 discovery is done: the cluster is {cluster}.",
        cause: NONE,
        action: NONE,
    },
    Message {
        forms: &[
            "failed to get from discovery server",
            "failed to get cluster size from discovery service",
            "failed to get cluster members from discovery service",
            "failed to register members itself to the discovery service",
        ],
        versions: "3.4–3.7",
        topic: Topic::Unreachable,
        says: "etcd could not read the discovery service: {error}.",
        cause: "The discovery service did not answer: it is down, unreachable from this machine (network, firewall, DNS, proxy), or answered an error.",
        action: "From this machine, fetch the discovery URL with curl; once it answers, etcd goes on by itself (it retries).",
    },
    Message {
        forms: &["error while waiting for peers"],
        versions: "3.5–3.6",
        topic: Topic::Unreachable,
        says: "etcd's watch on the token broke while it waited for the other members: {error}.",
        cause: "The connection to the discovery service dropped (a restart of the service, a proxy or load balancer timing out).",
        action: "Nothing while it retries; if it keeps failing, check the path to the discovery service.",
    },
    Message {
        forms: &[
            "retry connecting to discovery service",
            "{reason}: error connecting to {url}, retrying in {backoff}",
        ],
        versions: "3.4–3.7",
        topic: Topic::Retry,
        says: "etcd tries the discovery service again in {backoff} ({reason}).",
        cause: "The last request to the discovery service failed.",
        action: "Nothing while the retries last; they grow to 2 s, 4 s, 8 s and then every 8 s.",
    },
    Message {
        forms: &[
            "discovery failed",
            "failed to start etcd",
            "failed to start",
            "failed to {op} discovery cluster ({error})",
        ],
        versions: "3.4–3.7",
        topic: Topic::Failed,
        says: "etcd stopped: {error}.",
        cause: NONE,
        action: NONE,
    },
    Message {
        forms: &["discovery failed to join cluster", "discovery failed to get cluster"],
        versions: "3.6–3.7",
        topic: Topic::Failed,
        says: "v3 discovery failed: {error}.",
        cause: NONE,
        action: NONE,
    },
    Message {
        forms: &[
            "discovery cluster is full, falling back to proxy",
            "discovery cluster full, falling back to {fallback-proxy}",
        ],
        versions: "3.4–3.5",
        topic: Topic::BecameProxy,
        says: "The token already had its full size of members, so this machine became a v2 proxy, not a member.",
        cause: "More machines booted with this discovery URL than the size it was minted with (or machines re-registered after a wipe).",
        action: "If it should be a member: mint a token of the right size for a new cluster, or add it to the running cluster with `etcdctl member add`.",
    },
    Message {
        forms: &[
            "failed to bootstrap; discovery token was already used",
            "discovery token {discovery-token} was used, but failed to bootstrap the cluster.",
        ],
        versions: "3.4–3.7",
        topic: Topic::TokenUsed,
        says: "The token already has its full size of members and this one is not among them: etcd exits.",
        cause: "The token was used before (a cluster booted with it, or earlier boots of these machines registered), or more machines than its size use it.",
        action: "Mint a new token for a new cluster; to grow a running cluster use `etcdctl member add` instead of discovery.",
    },
    Message {
        forms: &[
            "member has been registered with discovery service",
            "member {name} has previously registered with discovery service token ({discovery-token}).",
        ],
        versions: "3.4–3.6",
        topic: Topic::RegisteredBefore,
        says: "This member registered with the token on an earlier boot, but its data directory holds no cluster.",
        cause: "The data directory was wiped or lost after the first registration (a reprovisioned machine, a tmpfs /var/lib/etcd), or the first bootstrap failed halfway.",
        action: "If the cluster formed without it: remove the old member (`etcdctl member remove`) and add it back (`etcdctl member add`); if no cluster ever formed: mint a new token and boot every machine with it.",
    },
    Message {
        forms: &[
            "member with duplicated name has already been registered",
            "member with duplicated name has registered with discovery service token({discovery-token}).",
        ],
        versions: "3.4–3.6",
        topic: Topic::DuplicateName,
        says: "Another member with this member's name is already registered with the token.",
        cause: "Two machines use one name (the same --name or ETCD_NAME, an image with a fixed machine id), or this machine re-registered with other peer URLs.",
        action: "Give each machine its own name (Flatcar's etcd-member defaults to the machine id; check that images do not share one), then mint a new token.",
    },
    Message {
        forms: &[
            "but could not find valid cluster configuration",
            "But etcd could not find valid cluster configuration in the given data dir ({data-dir}).",
            "check data dir if previous bootstrap succeeded",
            "Please check the given data dir path if the previous bootstrap succeeded",
            "or use a new discovery token if previous bootstrap failed",
            "or use a new discovery token if the previous bootstrap failed.",
            "cURL the discovery token URL for details",
            "please check (cURL) the discovery token for more information.",
            "do not reuse discovery token; generate a new one to bootstrap a cluster",
            "please do not reuse the discovery token and generate a new one to bootstrap the cluster.",
            "please generate a new discovery token and try to bootstrap again.",
        ],
        versions: "3.4–3.7",
        topic: Topic::Advice,
        says: "etcd's advice after the failure above.",
        cause: NONE,
        action: NONE,
    },
    Message {
        forms: &[
            "discovery token is ignored since cluster already initialized; valid logs are found",
            "discovery token ignored since a cluster has already been initialized. Valid log found at {wal-dir}",
            "server has already been initialized",
        ],
        versions: "3.4–3.7",
        topic: Topic::AlreadyInitialized,
        says: "The data directory already holds this member, so etcd skips discovery and rejoins its cluster.",
        cause: "A restart of a member that bootstrapped before.",
        action: "Nothing: this is how a restart should look. If the member should join a new cluster, wipe its data directory and use a new token.",
    },
    Message {
        forms: &[
            "discovery token ignored since the proxy has already been initialized; valid cluster file found",
            "discovery token ignored since the proxy has already been initialized. Valid cluster file found at {path}",
            "DNS SRV discovery ignored since the proxy has already been initialized; valid cluster file found",
            "DNS SRV discovery ignored since the proxy has already been initialized. Valid cluster file found at {path}",
        ],
        versions: "3.4–3.5",
        topic: Topic::Proxy,
        says: "This machine was a v2 proxy before and stays one: discovery is skipped.",
        cause: "An earlier boot found the token full and fell back to proxy mode; the proxy's cluster file remains.",
        action: "To make it a member, remove its data directory's proxy folder and add it with `etcdctl member add`.",
    },
    Message {
        forms: &[
            "v2 API proxy starting",
            "v2 proxy started listening on client requests",
            "proxy using peer URLS",
            "proxy using peer URLS from cluster file",
            "proxy updated peer URLs",
            "proxy: using peer urls {urls}",
            "proxy: using peer urls {urls} from cluster file {path}",
            "proxy: updated peer urls in cluster file from {from} to {to}",
            "v2 proxy started listening on client requests on {host}",
        ],
        versions: "3.4–3.5",
        topic: Topic::Proxy,
        says: "The v2 proxy runs: this machine forwards clients to the cluster but is not a member.",
        cause: "The token was full when it registered (see above), or --proxy is on.",
        action: NONE,
    },
    Message {
        forms: &["failed to get cluster from remote peers"],
        versions: "3.4–3.5",
        topic: Topic::Proxy,
        says: "The proxy could not learn the cluster's members from the peers discovery named: {error}.",
        cause: "The registered members are not reachable from this machine (wrong advertised peer URLs, a firewall, members down).",
        action: "Check that the peer URLs in the token are reachable from here.",
    },
    Message {
        forms: &["v2 http proxy has already been deprecated in 3.6"],
        versions: "3.6–3.7",
        topic: Topic::Deprecated,
        says: "--proxy is set, but etcd 3.6 has no v2 proxy.",
        cause: "A config written for etcd 3.5 or earlier.",
        action: "Drop --proxy; size the token to the members (a member past the size now exits).",
    },
    Message {
        forms: &["V2 discovery is deprecated!"],
        versions: "3.6",
        topic: Topic::Deprecated,
        says: "etcd 3.6 still takes v2 discovery (--discovery) but will not in 3.7.",
        cause: NONE,
        action: "Move to v3 discovery (--discovery-token and --discovery-endpoints) before etcd 3.7.",
    },
    Message {
        forms: &["Bootstrapping cluster using v3 discovery."],
        versions: "3.6–3.7",
        topic: Topic::Start,
        says: "etcd bootstraps through v3 discovery.",
        cause: NONE,
        action: NONE,
    },
    Message {
        forms: &[
            "--discovery flag is not set",
            "if you want to use discovery service, please set --discovery flag.",
            "V2 discovery settings (i.e., --discovery) or v3 discovery settings (i.e., --discovery-token, --discovery-endpoints) are not set",
            "V3 discovery settings (i.e., --discovery-token, --discovery-endpoints) are not set",
        ],
        versions: "3.4–3.7",
        topic: Topic::NotConfigured,
        says: "No discovery is set, and the static --initial-cluster does not name this member.",
        cause: "The discovery flags did not reach etcd (an unset variable in the unit, a drop-in that did not load), so etcd fell back to its static default.",
        action: "Check the unit's flags with `systemctl cat etcd-member` and the environment file the address comes from.",
    },
    Message {
        forms: &["forgot to set --initial-cluster?", "forgot to set --initial-cluster flag?"],
        versions: "3.4–3.7",
        topic: Topic::NotConfigured,
        says: "etcd's own hint: the member's name is not in --initial-cluster.",
        cause: NONE,
        action: NONE,
    },
    Message {
        forms: &[
            "forgot to set --initial-advertise-peer-urls?",
            "forgot to set --initial-advertise-peer-urls flag?",
        ],
        versions: "3.4–3.7",
        topic: Topic::NotConfigured,
        says: "etcd's own hint: the member's --initial-advertise-peer-urls do not match --initial-cluster.",
        cause: NONE,
        action: NONE,
    },
    Message {
        forms: &[
            "failed to resolve during SRV discovery",
            "couldn't resolve during SRV discovery ({error})",
        ],
        versions: "3.4–3.7",
        topic: Topic::Srv,
        says: "DNS SRV discovery found no records: {error}.",
        cause: "The _etcd-server._tcp (or _etcd-server-ssl._tcp) records of --discovery-srv are missing or not visible from here.",
        action: "Check the records with `dig SRV _etcd-server._tcp.<domain>`.",
    },
    Message {
        forms: &[
            "get cluster for etcd-server SRV",
            "get cluster for etcd-server-ssl SRV",
            "got bootstrap from DNS for etcd-server",
            "got bootstrap from DNS for etcd-server at {url}",
        ],
        versions: "3.4–3.7",
        topic: Topic::Srv,
        says: "DNS SRV discovery named the cluster's members.",
        cause: NONE,
        action: NONE,
    },
    Message {
        forms: &[
            "found duplicate peer from discovery service",
            "invalid peer info returned from discovery service",
            "invalid peer registry key",
        ],
        versions: "3.6–3.7",
        topic: Topic::BadRegistry,
        says: "v3 discovery skipped an entry it could not use: {memberKey} = {memberInfo}.",
        cause: "The token's registry holds a key or value that is not a member's (written by hand, or by another tool), or one member twice.",
        action: "Inspect the token; mint a new one if its entries are not the cluster's.",
    },
    Message {
        forms: &[
            "proxy failed to marshal peer URLs",
            "proxy failed to rename cluster file",
            "proxy failed to write cluster file",
            "proxy: error on marshal peer urls {error}",
            "proxy: error on updating clusterfile {error}",
            "proxy: error on writing urls {error}",
        ],
        versions: "3.4–3.5",
        topic: Topic::Proxy,
        says: "The v2 proxy could not keep the cluster's peer URLs in its data directory: {error}.",
        cause: "The data directory is not writable (full, read-only, wrong owner).",
        action: "Check the data directory; a proxy that cannot save them forgets the cluster when it restarts.",
    },
    Message {
        forms: &["proxy: this proxy supports v2 API only!"],
        versions: "3.4",
        topic: Topic::Proxy,
        says: "The v2 proxy forwards only etcd's v2 API: v3 clients (etcdctl 3, Kubernetes) cannot use it.",
        cause: "This machine became a proxy because the token was full.",
        action: "Point v3 clients at the members themselves.",
    },
    // Last: etcd 3.4's text logger prints any other proxy error this way.
    Message {
        forms: &["proxy: {error}"],
        versions: "3.4",
        topic: Topic::Proxy,
        says: "The v2 proxy failed: {error}.",
        cause: NONE,
        action: NONE,
    },
];

/// Error texts inside a message's `error` (and what etcd returns up the stack): what each
/// means. Matched by substring, in this order.
pub const ERRORS: &[(&str, Topic, &str)] = &[
    (
        "discovery: cluster is full",
        Topic::Full,
        "the token already has its full size of members and this one is not among them",
    ),
    (
        "discovery: found duplicate id",
        Topic::RegisteredBefore,
        "this member's id is already registered: it registered on an earlier boot and has since lost its data directory",
    ),
    (
        "discovery: found duplicate name",
        Topic::DuplicateName,
        "another member with this name is already registered",
    ),
    (
        "discovery: size key not found",
        Topic::Failed,
        "the token has no size (_config/size): it was not minted by this discovery service, it expired, or the URL has a typo",
    ),
    (
        "Key not found",
        Topic::Failed,
        "the discovery service does not know this token: it was not minted there, it expired, or the URL has a typo",
    ),
    (
        "discovery: size key is bad",
        Topic::Failed,
        "the token's size (_config/size) is not a positive number",
    ),
    (
        "discovery: token not found",
        Topic::Failed,
        "the discovery service does not know this token",
    ),
    (
        "discovery: bad discovery endpoint",
        Topic::Unreachable,
        "the discovery URL answered something that is not etcd's JSON (a web page, a proxy's error page)",
    ),
    (
        "invalid proxy address",
        Topic::NotConfigured,
        "--discovery-proxy is not a URL etcd can use",
    ),
    (
        "discovery: invalid URL",
        Topic::NotConfigured,
        "--discovery is not a URL etcd can use",
    ),
    (
        "discovery: invalid peer URL",
        Topic::NotConfigured,
        "a peer URL etcd would register is not valid",
    ),
    (
        "discovery: too many retries",
        Topic::Unreachable,
        "etcd gave up on the discovery service after retrying",
    ),
    (
        "has duplicate url",
        Topic::Failed,
        "two registered members advertise the same peer URL, so etcd cannot tell them apart (a placeholder address that was not filled in, or a copied --initial-advertise-peer-urls)",
    ),
    (
        "couldn't find local name",
        Topic::NotConfigured,
        "the member's name is not in --initial-cluster",
    ),
    (
        "connection refused",
        Topic::Unreachable,
        "nothing listens at the discovery URL's address",
    ),
    (
        "no such host",
        Topic::Unreachable,
        "the discovery URL's host name does not resolve from this machine",
    ),
    (
        "i/o timeout",
        Topic::Unreachable,
        "the discovery service did not answer in time",
    ),
    (
        "context deadline exceeded",
        Topic::Unreachable,
        "the discovery service did not answer in time",
    ),
    (
        "certificate",
        Topic::Unreachable,
        "the discovery service's TLS certificate was refused",
    ),
];

/// The message a line's `msg` is, with the values its capnslog form printed.
pub fn find(msg: &str) -> Option<(&'static Message, Vec<(String, String)>)> {
    for m in MESSAGES {
        for form in m.forms {
            if let Some(values) = matches(form, msg) {
                return Some((m, values));
            }
        }
    }
    None
}

/// What an error text means, if it is one etcd's discovery returns.
pub fn error_meaning(error: &str) -> Option<(Topic, &'static str)> {
    ERRORS
        .iter()
        .find(|(text, _, _)| error.contains(text))
        .map(|(_, topic, meaning)| (*topic, *meaning))
}

/// Whether `text` is `form` with its `{name}`s filled in; the values by name.
fn matches(form: &str, text: &str) -> Option<Vec<(String, String)>> {
    let mut values = Vec::new();
    let mut rest = text;
    let mut pattern = form;
    loop {
        match pattern.find('{') {
            None => return (rest == pattern).then_some(values),
            Some(open) => {
                let literal = &pattern[..open];
                rest = rest.strip_prefix(literal)?;
                let close = open + pattern[open..].find('}')?;
                let name = &pattern[open + 1..close];
                pattern = &pattern[close + 1..];
                // The value runs to the next literal (to the end if none).
                let next = pattern.split('{').next().unwrap_or("");
                let end = if next.is_empty() {
                    rest.len()
                } else {
                    rest.find(next)?
                };
                let value = rest[..end].trim_matches('"');
                values.push((name.to_string(), value.to_string()));
                rest = &rest[end..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zap_and_capnslog_forms_are_found() {
        let (m, values) = find("found 1 peer(s), waiting for 2 more").unwrap();
        assert_eq!(m.topic, Topic::Waiting);
        assert_eq!(
            values,
            [
                ("found-peers".to_string(), "1".to_string()),
                ("needed-peers".to_string(), "2".to_string())
            ]
        );
        let (m, values) = find("found peers from discovery server; waiting for more").unwrap();
        assert_eq!((m.topic, values.len()), (Topic::Waiting, 0));
        let (m, values) = find("using proxy \"http://10.0.0.1:3128\"").unwrap();
        assert_eq!(m.topic, Topic::Proxied);
        assert_eq!(values[0].1, "http://10.0.0.1:3128");
        assert!(find("found 1 peer(s), waiting for 2 more!").is_none());
        assert!(find("published local member to cluster through raft").is_none());
    }

    #[test]
    fn every_form_is_unique_and_every_sentence_names_only_known_values() {
        let mut seen = std::collections::HashSet::new();
        for m in MESSAGES {
            for form in m.forms {
                assert!(seen.insert(*form), "{form} twice");
                // A form finds its own message.
                let filled = form.replace(['{', '}'], "");
                let (found, _) = find(&filled).unwrap_or_else(|| panic!("{form}"));
                assert_eq!(found.topic, m.topic, "{form}");
            }
        }
        for t in ALL {
            assert_eq!(Topic::from_name(t.as_str()), Some(t));
        }
        assert_eq!(
            error_meaning("failed to join discovery cluster (discovery: cluster is full)"),
            Some((Topic::Full, ERRORS[0].2))
        );
    }
}
