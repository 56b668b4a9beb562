//! A Butane config as butane's `base/v0_4` (flatcar 1.0.0) and `base/v0_5` (flatcar 1.1.0)
//! schemas define it: one set of structs for both, each field marked with the first version
//! that has it (a 1.1 field in a 1.0 config is an unused key and is not read). Fields are in
//! butane's order, which is the order its checks walk them.

use crate::decode::{Decode, Decoder};
use crate::shape::{Field, HasShape};
use crate::yaml::{Node, Value};

/// Which versions have a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    V1_0,
    V1_1,
}

/// Declares a Butane struct: its fields with their YAML key, Go type (for yaml.v3's
/// messages) and first version.
macro_rules! butane_struct {
    ($(#[$meta:meta])* $name:ident {
        $($field:ident : $ty:ty = $key:literal, $gotype:literal, $since:ident;)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $(pub $field: $ty,)*
        }

        impl Decode for $name {
            fn decode(node: &Node, d: &mut Decoder, go_type: &str) -> Option<Self> {
                let entries = match &node.value {
                    Value::Mapping(entries) => entries,
                    _ if crate::decode::is_null(node) => return None,
                    _ => {
                        d.mismatch(node, go_type);
                        return None;
                    }
                };
                if !d.unique_keys(entries) {
                    return None;
                }
                let mut value = $name::default();
                for (key, v) in crate::decode::struct_entries(entries, d) {
                    match key {
                        $($key if d.v1_1 || Since::$since == Since::V1_0 => {
                            let ty = d.go_type($gotype);
                            if let Some(decoded) = <$ty as Decode>::decode(v, d, &ty) {
                                value.$field = decoded;
                            }
                        })*
                        _ => {}
                    }
                }
                Some(value)
            }
        }

        impl HasShape for $name {
            const FIELDS: Option<&'static [Field]> = Some(&[$(Field {
                key: $key,
                since: Since::$since as u8,
                list: <$ty as HasShape>::LIST,
                fields: <$ty as HasShape>::FIELDS,
            }),*]);
        }
    };
}

butane_struct! {
    /// The whole config; `version` and `variant` were read before it to pick the translator.
    Config {
        version: String = "version", "string", V1_0;
        variant: String = "variant", "string", V1_0;
        ignition: Ignition = "ignition", "{pkg}.Ignition", V1_0;
        kernel_arguments: KernelArguments = "kernel_arguments", "{pkg}.KernelArguments", V1_0;
        passwd: Passwd = "passwd", "{pkg}.Passwd", V1_0;
        storage: Storage = "storage", "{pkg}.Storage", V1_0;
        systemd: Systemd = "systemd", "{pkg}.Systemd", V1_0;
    }
}

butane_struct! {
    Clevis {
        custom: ClevisCustom = "custom", "{pkg}.ClevisCustom", V1_0;
        tang: Vec<Tang> = "tang", "[]{pkg}.Tang", V1_0;
        threshold: Option<i64> = "threshold", "int", V1_0;
        tpm2: Option<bool> = "tpm2", "bool", V1_0;
    }
}

butane_struct! {
    ClevisCustom {
        config: Option<String> = "config", "string", V1_0;
        needs_network: Option<bool> = "needs_network", "bool", V1_0;
        pin: Option<String> = "pin", "string", V1_0;
    }
}

butane_struct! {
    Directory {
        group: NodeGroup = "group", "{pkg}.NodeGroup", V1_0;
        overwrite: Option<bool> = "overwrite", "bool", V1_0;
        path: String = "path", "string", V1_0;
        user: NodeUser = "user", "{pkg}.NodeUser", V1_0;
        mode: Option<i64> = "mode", "int", V1_0;
    }
}

butane_struct! {
    Disk {
        device: String = "device", "string", V1_0;
        partitions: Vec<Partition> = "partitions", "[]{pkg}.Partition", V1_0;
        wipe_table: Option<bool> = "wipe_table", "bool", V1_0;
    }
}

butane_struct! {
    Dropin {
        contents: Option<String> = "contents", "string", V1_0;
        contents_local: Option<String> = "contents_local", "string", V1_1;
        name: String = "name", "string", V1_0;
    }
}

butane_struct! {
    File {
        group: NodeGroup = "group", "{pkg}.NodeGroup", V1_0;
        overwrite: Option<bool> = "overwrite", "bool", V1_0;
        path: String = "path", "string", V1_0;
        user: NodeUser = "user", "{pkg}.NodeUser", V1_0;
        append: Vec<Resource> = "append", "[]{pkg}.Resource", V1_0;
        contents: Resource = "contents", "{pkg}.Resource", V1_0;
        mode: Option<i64> = "mode", "int", V1_0;
    }
}

butane_struct! {
    Filesystem {
        device: String = "device", "string", V1_0;
        format: Option<String> = "format", "string", V1_0;
        label: Option<String> = "label", "string", V1_0;
        mount_options: Vec<String> = "mount_options", "[]string", V1_0;
        options: Vec<String> = "options", "[]string", V1_0;
        path: Option<String> = "path", "string", V1_0;
        uuid: Option<String> = "uuid", "string", V1_0;
        wipe_filesystem: Option<bool> = "wipe_filesystem", "bool", V1_0;
        with_mount_unit: Option<bool> = "with_mount_unit", "bool", V1_0;
    }
}

butane_struct! {
    HttpHeader {
        name: String = "name", "string", V1_0;
        value: Option<String> = "value", "string", V1_0;
    }
}

butane_struct! {
    Ignition {
        config: IgnitionConfig = "config", "{pkg}.IgnitionConfig", V1_0;
        proxy: Proxy = "proxy", "{pkg}.Proxy", V1_0;
        security: Security = "security", "{pkg}.Security", V1_0;
        timeouts: Timeouts = "timeouts", "{pkg}.Timeouts", V1_0;
    }
}

butane_struct! {
    IgnitionConfig {
        merge: Vec<Resource> = "merge", "[]{pkg}.Resource", V1_0;
        replace: Resource = "replace", "{pkg}.Resource", V1_0;
    }
}

butane_struct! {
    KernelArguments {
        should_exist: Vec<String> = "should_exist", "[]{pkg}.KernelArgument", V1_0;
        should_not_exist: Vec<String> = "should_not_exist", "[]{pkg}.KernelArgument", V1_0;
    }
}

butane_struct! {
    Link {
        group: NodeGroup = "group", "{pkg}.NodeGroup", V1_0;
        overwrite: Option<bool> = "overwrite", "bool", V1_0;
        path: String = "path", "string", V1_0;
        user: NodeUser = "user", "{pkg}.NodeUser", V1_0;
        hard: Option<bool> = "hard", "bool", V1_0;
        target: Option<String> = "target", "string", V1_0;
    }
}

butane_struct! {
    Luks {
        clevis: Clevis = "clevis", "{pkg}.Clevis", V1_0;
        device: Option<String> = "device", "string", V1_0;
        discard: Option<bool> = "discard", "bool", V1_1;
        key_file: Resource = "key_file", "{pkg}.Resource", V1_0;
        label: Option<String> = "label", "string", V1_0;
        name: String = "name", "string", V1_0;
        open_options: Vec<String> = "open_options", "[]string", V1_1;
        options: Vec<String> = "options", "[]string|[]{pkg}.LuksOption", V1_0;
        uuid: Option<String> = "uuid", "string", V1_0;
        wipe_volume: Option<bool> = "wipe_volume", "bool", V1_0;
    }
}

butane_struct! {
    NodeGroup {
        id: Option<i64> = "id", "int", V1_0;
        name: Option<String> = "name", "string", V1_0;
    }
}

butane_struct! {
    NodeUser {
        id: Option<i64> = "id", "int", V1_0;
        name: Option<String> = "name", "string", V1_0;
    }
}

butane_struct! {
    Partition {
        guid: Option<String> = "guid", "string", V1_0;
        label: Option<String> = "label", "string", V1_0;
        number: i64 = "number", "int", V1_0;
        resize: Option<bool> = "resize", "bool", V1_0;
        should_exist: Option<bool> = "should_exist", "bool", V1_0;
        size_mib: Option<i64> = "size_mib", "int", V1_0;
        start_mib: Option<i64> = "start_mib", "int", V1_0;
        type_guid: Option<String> = "type_guid", "string", V1_0;
        wipe_partition_entry: Option<bool> = "wipe_partition_entry", "bool", V1_0;
    }
}

butane_struct! {
    Passwd {
        groups: Vec<PasswdGroup> = "groups", "[]{pkg}.PasswdGroup", V1_0;
        users: Vec<PasswdUser> = "users", "[]{pkg}.PasswdUser", V1_0;
    }
}

butane_struct! {
    PasswdGroup {
        gid: Option<i64> = "gid", "int", V1_0;
        name: String = "name", "string", V1_0;
        password_hash: Option<String> = "password_hash", "string", V1_0;
        should_exist: Option<bool> = "should_exist", "bool", V1_0;
        system: Option<bool> = "system", "bool", V1_0;
    }
}

butane_struct! {
    PasswdUser {
        gecos: Option<String> = "gecos", "string", V1_0;
        groups: Vec<String> = "groups", "[]{pkg}.Group", V1_0;
        home_dir: Option<String> = "home_dir", "string", V1_0;
        name: String = "name", "string", V1_0;
        no_create_home: Option<bool> = "no_create_home", "bool", V1_0;
        no_log_init: Option<bool> = "no_log_init", "bool", V1_0;
        no_user_group: Option<bool> = "no_user_group", "bool", V1_0;
        password_hash: Option<String> = "password_hash", "string", V1_0;
        primary_group: Option<String> = "primary_group", "string", V1_0;
        should_exist: Option<bool> = "should_exist", "bool", V1_0;
        ssh_authorized_keys: Vec<String> = "ssh_authorized_keys", "[]{pkg}.SSHAuthorizedKey", V1_0;
        ssh_authorized_keys_local: Vec<String> = "ssh_authorized_keys_local", "[]string", V1_1;
        shell: Option<String> = "shell", "string", V1_0;
        system: Option<bool> = "system", "bool", V1_0;
        uid: Option<i64> = "uid", "int", V1_0;
    }
}

butane_struct! {
    Proxy {
        http_proxy: Option<String> = "http_proxy", "string", V1_0;
        https_proxy: Option<String> = "https_proxy", "string", V1_0;
        no_proxy: Vec<String> = "no_proxy", "[]string", V1_0;
    }
}

butane_struct! {
    Raid {
        devices: Vec<String> = "devices", "[]{pkg}.Device", V1_0;
        level: Option<String> = "level", "string", V1_0;
        name: String = "name", "string", V1_0;
        options: Vec<String> = "options", "[]string|[]{pkg}.RaidOption", V1_0;
        spares: Option<i64> = "spares", "int", V1_0;
    }
}

butane_struct! {
    /// Contents from somewhere: butane's `inline` and `local` become an Ignition `source`.
    Resource {
        compression: Option<String> = "compression", "string", V1_0;
        http_headers: Vec<HttpHeader> = "http_headers", "{pkg}.HTTPHeaders", V1_0;
        source: Option<String> = "source", "string", V1_0;
        inline: Option<String> = "inline", "string", V1_0;
        local: Option<String> = "local", "string", V1_0;
        verification: Verification = "verification", "{pkg}.Verification", V1_0;
    }
}

butane_struct! {
    Security {
        tls: Tls = "tls", "{pkg}.TLS", V1_0;
    }
}

butane_struct! {
    Storage {
        directories: Vec<Directory> = "directories", "[]{pkg}.Directory", V1_0;
        disks: Vec<Disk> = "disks", "[]{pkg}.Disk", V1_0;
        files: Vec<File> = "files", "[]{pkg}.File", V1_0;
        filesystems: Vec<Filesystem> = "filesystems", "[]{pkg}.Filesystem", V1_0;
        links: Vec<Link> = "links", "[]{pkg}.Link", V1_0;
        luks: Vec<Luks> = "luks", "[]{pkg}.Luks", V1_0;
        raid: Vec<Raid> = "raid", "[]{pkg}.Raid", V1_0;
        trees: Vec<Tree> = "trees", "[]{pkg}.Tree", V1_0;
    }
}

butane_struct! {
    Systemd {
        units: Vec<Unit> = "units", "[]{pkg}.Unit", V1_0;
    }
}

butane_struct! {
    Tang {
        thumbprint: Option<String> = "thumbprint", "string", V1_0;
        url: String = "url", "string", V1_0;
        advertisement: Option<String> = "advertisement", "string", V1_1;
    }
}

butane_struct! {
    Tls {
        certificate_authorities: Vec<Resource> = "certificate_authorities", "[]{pkg}.Resource", V1_0;
    }
}

butane_struct! {
    Timeouts {
        http_response_headers: Option<i64> = "http_response_headers", "int", V1_0;
        http_total: Option<i64> = "http_total", "int", V1_0;
    }
}

butane_struct! {
    Tree {
        local: String = "local", "string", V1_0;
        path: Option<String> = "path", "string", V1_0;
    }
}

butane_struct! {
    Unit {
        contents: Option<String> = "contents", "string", V1_0;
        contents_local: Option<String> = "contents_local", "string", V1_1;
        dropins: Vec<Dropin> = "dropins", "[]{pkg}.Dropin", V1_0;
        enabled: Option<bool> = "enabled", "bool", V1_0;
        mask: Option<bool> = "mask", "bool", V1_0;
        name: String = "name", "string", V1_0;
    }
}

butane_struct! {
    Verification {
        hash: Option<String> = "hash", "string", V1_0;
    }
}
