//! Ignition's config types for spec 3.3.0 and 3.4.0 (`ignition/config/v3_{3,4}/types`), one
//! set for both: 3.4 adds `luks.discard`, `luks.openOptions` and `tang.advertisement`, which a
//! 3.3 config leaves unset. Fields are in Go's struct order (an embedded `Node` first), which
//! is the JSON's key order and the order Ignition's checks walk them.

use super::json::{Json, Writer};
use super::read::{field_for, is_json_null, Context, FromJson, JsonDecoder};
use crate::shape::{Field, HasShape};
use crate::yaml::{Node, Value};

macro_rules! ignition_struct {
    ($(#[$meta:meta])* $name:ident $go:literal {
        $($field:ident : $ty:ty = $key:literal $omit:ident $since:ident;)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $(pub $field: $ty,)*
        }

        impl Json for $name {
            fn is_empty(&self) -> bool {
                true $(&& Json::is_empty(&self.$field))*
            }
            fn write(&self, w: &mut Writer) {
                w.object(&[$(($key, &self.$field as &dyn Json, ignition_struct!(@omit $omit)),)*]);
            }
        }

        impl HasShape for $name {
            const FIELDS: Option<&'static [Field]> = Some(&[$(Field {
                key: $key,
                newer: matches!(Spec::$since, Spec::V3_4),
                list: <$ty as HasShape>::LIST,
                fields: <$ty as HasShape>::FIELDS,
            }),*]);
        }

        impl FromJson for $name {
            const GO_TYPE: &'static str = concat!("types.", $go);

            fn from_json(node: &Node, d: &mut JsonDecoder, context: &Context) -> Option<Self> {
                let entries = match &node.value {
                    Value::Mapping(entries) => entries,
                    _ if is_json_null(node) => return None,
                    _ => {
                        d.mismatch(node, Self::GO_TYPE, context);
                        return None;
                    }
                };
                const KEYS: &[(&str, Spec)] = &[$(($key, Spec::$since)),*];
                let mut value = $name::default();
                for (k, v) in entries {
                    let Some(field) = field_for(KEYS, k, entries, d.spec) else { continue };
                    let mut i = 0;
                    $(
                        if i == field {
                            let inner = context.down($go, $key);
                            if let Some(decoded) = <$ty as FromJson>::from_json(v, d, &inner) {
                                value.$field = decoded;
                            }
                            continue;
                        }
                        i += 1;
                    )*
                    let _ = i;
                }
                Some(value)
            }
        }
    };
    (@omit omitempty) => { true };
    (@omit always) => { false };
}

ignition_struct! {
    Config "Config" {
        ignition: Ignition = "ignition" always V3_3;
        kernel_arguments: KernelArguments = "kernelArguments" omitempty V3_3;
        passwd: Passwd = "passwd" omitempty V3_3;
        storage: Storage = "storage" omitempty V3_3;
        systemd: Systemd = "systemd" omitempty V3_3;
    }
}

ignition_struct! {
    Clevis "Clevis" {
        custom: ClevisCustom = "custom" omitempty V3_3;
        tang: Vec<Tang> = "tang" omitempty V3_3;
        threshold: Option<i64> = "threshold" omitempty V3_3;
        tpm2: Option<bool> = "tpm2" omitempty V3_3;
    }
}

ignition_struct! {
    ClevisCustom "ClevisCustom" {
        config: Option<String> = "config" omitempty V3_3;
        needs_network: Option<bool> = "needsNetwork" omitempty V3_3;
        pin: Option<String> = "pin" omitempty V3_3;
    }
}

ignition_struct! {
    Directory "Directory" {
        group: NodeGroup = "group" omitempty V3_3;
        overwrite: Option<bool> = "overwrite" omitempty V3_3;
        path: String = "path" always V3_3;
        user: NodeUser = "user" omitempty V3_3;
        mode: Option<i64> = "mode" omitempty V3_3;
    }
}

ignition_struct! {
    Disk "Disk" {
        device: String = "device" always V3_3;
        partitions: Vec<Partition> = "partitions" omitempty V3_3;
        wipe_table: Option<bool> = "wipeTable" omitempty V3_3;
    }
}

ignition_struct! {
    Dropin "Dropin" {
        contents: Option<String> = "contents" omitempty V3_3;
        name: String = "name" always V3_3;
    }
}

ignition_struct! {
    File "File" {
        group: NodeGroup = "group" omitempty V3_3;
        overwrite: Option<bool> = "overwrite" omitempty V3_3;
        path: String = "path" always V3_3;
        user: NodeUser = "user" omitempty V3_3;
        append: Vec<Resource> = "append" omitempty V3_3;
        contents: Resource = "contents" omitempty V3_3;
        mode: Option<i64> = "mode" omitempty V3_3;
    }
}

ignition_struct! {
    Filesystem "Filesystem" {
        device: String = "device" always V3_3;
        format: Option<String> = "format" omitempty V3_3;
        label: Option<String> = "label" omitempty V3_3;
        mount_options: Vec<String> = "mountOptions" omitempty V3_3;
        options: Vec<String> = "options" omitempty V3_3;
        path: Option<String> = "path" omitempty V3_3;
        uuid: Option<String> = "uuid" omitempty V3_3;
        wipe_filesystem: Option<bool> = "wipeFilesystem" omitempty V3_3;
    }
}

ignition_struct! {
    HttpHeader "HTTPHeader" {
        name: String = "name" always V3_3;
        value: Option<String> = "value" omitempty V3_3;
    }
}

ignition_struct! {
    Ignition "Ignition" {
        config: IgnitionConfig = "config" omitempty V3_3;
        proxy: Proxy = "proxy" omitempty V3_3;
        security: Security = "security" omitempty V3_3;
        timeouts: Timeouts = "timeouts" omitempty V3_3;
        version: String = "version" always V3_3;
    }
}

ignition_struct! {
    IgnitionConfig "IgnitionConfig" {
        merge: Vec<Resource> = "merge" omitempty V3_3;
        replace: Resource = "replace" omitempty V3_3;
    }
}

ignition_struct! {
    KernelArguments "KernelArguments" {
        should_exist: Vec<String> = "shouldExist" omitempty V3_3;
        should_not_exist: Vec<String> = "shouldNotExist" omitempty V3_3;
    }
}

ignition_struct! {
    Link "Link" {
        group: NodeGroup = "group" omitempty V3_3;
        overwrite: Option<bool> = "overwrite" omitempty V3_3;
        path: String = "path" always V3_3;
        user: NodeUser = "user" omitempty V3_3;
        hard: Option<bool> = "hard" omitempty V3_3;
        target: Option<String> = "target" omitempty V3_3;
    }
}

ignition_struct! {
    Luks "Luks" {
        clevis: Clevis = "clevis" omitempty V3_3;
        device: Option<String> = "device" omitempty V3_3;
        discard: Option<bool> = "discard" omitempty V3_4;
        key_file: Resource = "keyFile" omitempty V3_3;
        label: Option<String> = "label" omitempty V3_3;
        name: String = "name" always V3_3;
        open_options: Vec<String> = "openOptions" omitempty V3_4;
        options: Vec<String> = "options" omitempty V3_3;
        uuid: Option<String> = "uuid" omitempty V3_3;
        wipe_volume: Option<bool> = "wipeVolume" omitempty V3_3;
    }
}

ignition_struct! {
    NodeGroup "NodeGroup" {
        id: Option<i64> = "id" omitempty V3_3;
        name: Option<String> = "name" omitempty V3_3;
    }
}

ignition_struct! {
    NodeUser "NodeUser" {
        id: Option<i64> = "id" omitempty V3_3;
        name: Option<String> = "name" omitempty V3_3;
    }
}

ignition_struct! {
    Partition "Partition" {
        guid: Option<String> = "guid" omitempty V3_3;
        label: Option<String> = "label" omitempty V3_3;
        number: i64 = "number" omitempty V3_3;
        resize: Option<bool> = "resize" omitempty V3_3;
        should_exist: Option<bool> = "shouldExist" omitempty V3_3;
        size_mib: Option<i64> = "sizeMiB" omitempty V3_3;
        start_mib: Option<i64> = "startMiB" omitempty V3_3;
        type_guid: Option<String> = "typeGuid" omitempty V3_3;
        wipe_partition_entry: Option<bool> = "wipePartitionEntry" omitempty V3_3;
    }
}

ignition_struct! {
    Passwd "Passwd" {
        groups: Vec<PasswdGroup> = "groups" omitempty V3_3;
        users: Vec<PasswdUser> = "users" omitempty V3_3;
    }
}

ignition_struct! {
    PasswdGroup "PasswdGroup" {
        gid: Option<i64> = "gid" omitempty V3_3;
        name: String = "name" always V3_3;
        password_hash: Option<String> = "passwordHash" omitempty V3_3;
        should_exist: Option<bool> = "shouldExist" omitempty V3_3;
        system: Option<bool> = "system" omitempty V3_3;
    }
}

ignition_struct! {
    PasswdUser "PasswdUser" {
        gecos: Option<String> = "gecos" omitempty V3_3;
        groups: Vec<String> = "groups" omitempty V3_3;
        home_dir: Option<String> = "homeDir" omitempty V3_3;
        name: String = "name" always V3_3;
        no_create_home: Option<bool> = "noCreateHome" omitempty V3_3;
        no_log_init: Option<bool> = "noLogInit" omitempty V3_3;
        no_user_group: Option<bool> = "noUserGroup" omitempty V3_3;
        password_hash: Option<String> = "passwordHash" omitempty V3_3;
        primary_group: Option<String> = "primaryGroup" omitempty V3_3;
        ssh_authorized_keys: Vec<String> = "sshAuthorizedKeys" omitempty V3_3;
        shell: Option<String> = "shell" omitempty V3_3;
        should_exist: Option<bool> = "shouldExist" omitempty V3_3;
        system: Option<bool> = "system" omitempty V3_3;
        uid: Option<i64> = "uid" omitempty V3_3;
    }
}

ignition_struct! {
    Proxy "Proxy" {
        http_proxy: Option<String> = "httpProxy" omitempty V3_3;
        https_proxy: Option<String> = "httpsProxy" omitempty V3_3;
        no_proxy: Vec<String> = "noProxy" omitempty V3_3;
    }
}

ignition_struct! {
    Raid "Raid" {
        devices: Vec<String> = "devices" omitempty V3_3;
        level: Option<String> = "level" omitempty V3_3;
        name: String = "name" always V3_3;
        options: Vec<String> = "options" omitempty V3_3;
        spares: Option<i64> = "spares" omitempty V3_3;
    }
}

ignition_struct! {
    Resource "Resource" {
        compression: Option<String> = "compression" omitempty V3_3;
        http_headers: Vec<HttpHeader> = "httpHeaders" omitempty V3_3;
        source: Option<String> = "source" omitempty V3_3;
        verification: Verification = "verification" omitempty V3_3;
    }
}

ignition_struct! {
    Security "Security" {
        tls: Tls = "tls" omitempty V3_3;
    }
}

ignition_struct! {
    Storage "Storage" {
        directories: Vec<Directory> = "directories" omitempty V3_3;
        disks: Vec<Disk> = "disks" omitempty V3_3;
        files: Vec<File> = "files" omitempty V3_3;
        filesystems: Vec<Filesystem> = "filesystems" omitempty V3_3;
        links: Vec<Link> = "links" omitempty V3_3;
        luks: Vec<Luks> = "luks" omitempty V3_3;
        raid: Vec<Raid> = "raid" omitempty V3_3;
    }
}

ignition_struct! {
    Systemd "Systemd" {
        units: Vec<Unit> = "units" omitempty V3_3;
    }
}

ignition_struct! {
    Tang "Tang" {
        advertisement: Option<String> = "advertisement" omitempty V3_4;
        thumbprint: Option<String> = "thumbprint" omitempty V3_3;
        url: String = "url" omitempty V3_3;
    }
}

ignition_struct! {
    Tls "TLS" {
        certificate_authorities: Vec<Resource> = "certificateAuthorities" omitempty V3_3;
    }
}

ignition_struct! {
    Timeouts "Timeouts" {
        http_response_headers: Option<i64> = "httpResponseHeaders" omitempty V3_3;
        http_total: Option<i64> = "httpTotal" omitempty V3_3;
    }
}

ignition_struct! {
    Unit "Unit" {
        contents: Option<String> = "contents" omitempty V3_3;
        dropins: Vec<Dropin> = "dropins" omitempty V3_3;
        enabled: Option<bool> = "enabled" omitempty V3_3;
        mask: Option<bool> = "mask" omitempty V3_3;
        name: String = "name" always V3_3;
    }
}

ignition_struct! {
    Verification "Verification" {
        hash: Option<String> = "hash" omitempty V3_3;
    }
}

/// The spec versions Butane for Flatcar writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    V3_3,
    V3_4,
}

impl Spec {
    pub fn version(self) -> &'static str {
        match self {
            Spec::V3_3 => "3.3.0",
            Spec::V3_4 => "3.4.0",
        }
    }
}

impl Config {
    /// The config as `butane` prints it: `--pretty` or compact, with no trailing newline.
    pub fn to_json(&self, pretty: bool) -> String {
        let mut w = Writer::new(pretty);
        self.write(&mut w);
        w.finish()
    }
}
