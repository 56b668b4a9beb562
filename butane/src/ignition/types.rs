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
                since: Since::$since as u8,
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
                const KEYS: &[(&str, u8)] = &[$(($key, Since::$since as u8)),*];
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
        ignition: Ignition = "ignition" always V3_0;
        kernel_arguments: KernelArguments = "kernelArguments" omitempty V3_3;
        passwd: Passwd = "passwd" omitempty V3_0;
        storage: Storage = "storage" omitempty V3_0;
        systemd: Systemd = "systemd" omitempty V3_0;
    }
}

ignition_struct! {
    Clevis "Clevis" {
        custom: ClevisCustom = "custom" omitempty V3_2;
        tang: Vec<Tang> = "tang" omitempty V3_2;
        threshold: Option<i64> = "threshold" omitempty V3_2;
        tpm2: Option<bool> = "tpm2" omitempty V3_2;
    }
}

ignition_struct! {
    ClevisCustom "ClevisCustom" {
        config: Option<String> = "config" omitempty V3_0;
        needs_network: Option<bool> = "needsNetwork" omitempty V3_2;
        pin: Option<String> = "pin" omitempty V3_2;
    }
}

ignition_struct! {
    Directory "Directory" {
        group: NodeGroup = "group" omitempty V3_0;
        overwrite: Option<bool> = "overwrite" omitempty V3_0;
        path: String = "path" always V3_0;
        user: NodeUser = "user" omitempty V3_0;
        mode: Option<i64> = "mode" omitempty V3_0;
    }
}

ignition_struct! {
    Disk "Disk" {
        device: String = "device" always V3_0;
        partitions: Vec<Partition> = "partitions" omitempty V3_0;
        wipe_table: Option<bool> = "wipeTable" omitempty V3_0;
    }
}

ignition_struct! {
    Dropin "Dropin" {
        contents: Option<String> = "contents" omitempty V3_0;
        name: String = "name" always V3_0;
    }
}

ignition_struct! {
    File "File" {
        group: NodeGroup = "group" omitempty V3_0;
        overwrite: Option<bool> = "overwrite" omitempty V3_0;
        path: String = "path" always V3_0;
        user: NodeUser = "user" omitempty V3_0;
        append: Vec<Resource> = "append" omitempty V3_0;
        contents: Resource = "contents" omitempty V3_0;
        mode: Option<i64> = "mode" omitempty V3_0;
    }
}

ignition_struct! {
    Filesystem "Filesystem" {
        device: String = "device" always V3_0;
        format: Option<String> = "format" omitempty V3_0;
        label: Option<String> = "label" omitempty V3_0;
        mount_options: Vec<String> = "mountOptions" omitempty V3_1;
        options: Vec<String> = "options" omitempty V3_0;
        path: Option<String> = "path" omitempty V3_0;
        uuid: Option<String> = "uuid" omitempty V3_0;
        wipe_filesystem: Option<bool> = "wipeFilesystem" omitempty V3_0;
    }
}

ignition_struct! {
    HttpHeader "HTTPHeader" {
        name: String = "name" always V3_0;
        value: Option<String> = "value" omitempty V3_0;
    }
}

ignition_struct! {
    Ignition "Ignition" {
        config: IgnitionConfig = "config" omitempty V3_0;
        proxy: Proxy = "proxy" omitempty V3_1;
        security: Security = "security" omitempty V3_0;
        timeouts: Timeouts = "timeouts" omitempty V3_0;
        version: String = "version" always V3_0;
    }
}

ignition_struct! {
    IgnitionConfig "IgnitionConfig" {
        merge: Vec<Resource> = "merge" omitempty V3_0;
        replace: Resource = "replace" omitempty V3_0;
    }
}

ignition_struct! {
    KernelArguments "KernelArguments" {
        should_exist: Vec<String> = "shouldExist" omitempty V3_0;
        should_not_exist: Vec<String> = "shouldNotExist" omitempty V3_3;
    }
}

ignition_struct! {
    Link "Link" {
        group: NodeGroup = "group" omitempty V3_0;
        overwrite: Option<bool> = "overwrite" omitempty V3_0;
        path: String = "path" always V3_0;
        user: NodeUser = "user" omitempty V3_0;
        hard: Option<bool> = "hard" omitempty V3_0;
        target: Option<String> = "target" omitempty V3_0;
    }
}

ignition_struct! {
    Luks "Luks" {
        clevis: Clevis = "clevis" omitempty V3_2;
        device: Option<String> = "device" omitempty V3_0;
        discard: Option<bool> = "discard" omitempty V3_4;
        key_file: Resource = "keyFile" omitempty V3_2;
        label: Option<String> = "label" omitempty V3_0;
        name: String = "name" always V3_0;
        open_options: Vec<String> = "openOptions" omitempty V3_4;
        options: Vec<String> = "options" omitempty V3_0;
        uuid: Option<String> = "uuid" omitempty V3_0;
        wipe_volume: Option<bool> = "wipeVolume" omitempty V3_2;
    }
}

ignition_struct! {
    NodeGroup "NodeGroup" {
        id: Option<i64> = "id" omitempty V3_0;
        name: Option<String> = "name" omitempty V3_0;
    }
}

ignition_struct! {
    NodeUser "NodeUser" {
        id: Option<i64> = "id" omitempty V3_0;
        name: Option<String> = "name" omitempty V3_0;
    }
}

ignition_struct! {
    Partition "Partition" {
        guid: Option<String> = "guid" omitempty V3_0;
        label: Option<String> = "label" omitempty V3_0;
        number: i64 = "number" omitempty V3_0;
        resize: Option<bool> = "resize" omitempty V3_2;
        should_exist: Option<bool> = "shouldExist" omitempty V3_0;
        size_mib: Option<i64> = "sizeMiB" omitempty V3_0;
        start_mib: Option<i64> = "startMiB" omitempty V3_0;
        type_guid: Option<String> = "typeGuid" omitempty V3_0;
        wipe_partition_entry: Option<bool> = "wipePartitionEntry" omitempty V3_0;
    }
}

ignition_struct! {
    Passwd "Passwd" {
        groups: Vec<PasswdGroup> = "groups" omitempty V3_0;
        users: Vec<PasswdUser> = "users" omitempty V3_0;
    }
}

ignition_struct! {
    PasswdGroup "PasswdGroup" {
        gid: Option<i64> = "gid" omitempty V3_0;
        name: String = "name" always V3_0;
        password_hash: Option<String> = "passwordHash" omitempty V3_0;
        should_exist: Option<bool> = "shouldExist" omitempty V3_0;
        system: Option<bool> = "system" omitempty V3_0;
    }
}

ignition_struct! {
    PasswdUser "PasswdUser" {
        gecos: Option<String> = "gecos" omitempty V3_0;
        groups: Vec<String> = "groups" omitempty V3_0;
        home_dir: Option<String> = "homeDir" omitempty V3_0;
        name: String = "name" always V3_0;
        no_create_home: Option<bool> = "noCreateHome" omitempty V3_0;
        no_log_init: Option<bool> = "noLogInit" omitempty V3_0;
        no_user_group: Option<bool> = "noUserGroup" omitempty V3_0;
        password_hash: Option<String> = "passwordHash" omitempty V3_0;
        primary_group: Option<String> = "primaryGroup" omitempty V3_0;
        ssh_authorized_keys: Vec<String> = "sshAuthorizedKeys" omitempty V3_0;
        shell: Option<String> = "shell" omitempty V3_0;
        should_exist: Option<bool> = "shouldExist" omitempty V3_0;
        system: Option<bool> = "system" omitempty V3_0;
        uid: Option<i64> = "uid" omitempty V3_0;
    }
}

ignition_struct! {
    Proxy "Proxy" {
        http_proxy: Option<String> = "httpProxy" omitempty V3_1;
        https_proxy: Option<String> = "httpsProxy" omitempty V3_1;
        no_proxy: Vec<String> = "noProxy" omitempty V3_1;
    }
}

ignition_struct! {
    Raid "Raid" {
        devices: Vec<String> = "devices" omitempty V3_0;
        level: Option<String> = "level" omitempty V3_0;
        name: String = "name" always V3_0;
        options: Vec<String> = "options" omitempty V3_0;
        spares: Option<i64> = "spares" omitempty V3_0;
    }
}

ignition_struct! {
    Resource "Resource" {
        compression: Option<String> = "compression" omitempty V3_0;
        http_headers: Vec<HttpHeader> = "httpHeaders" omitempty V3_1;
        source: Option<String> = "source" omitempty V3_0;
        verification: Verification = "verification" omitempty V3_0;
    }
}

ignition_struct! {
    Security "Security" {
        tls: Tls = "tls" omitempty V3_0;
    }
}

ignition_struct! {
    Storage "Storage" {
        directories: Vec<Directory> = "directories" omitempty V3_0;
        disks: Vec<Disk> = "disks" omitempty V3_0;
        files: Vec<File> = "files" omitempty V3_0;
        filesystems: Vec<Filesystem> = "filesystems" omitempty V3_0;
        links: Vec<Link> = "links" omitempty V3_0;
        luks: Vec<Luks> = "luks" omitempty V3_2;
        raid: Vec<Raid> = "raid" omitempty V3_0;
    }
}

ignition_struct! {
    Systemd "Systemd" {
        units: Vec<Unit> = "units" omitempty V3_0;
    }
}

ignition_struct! {
    Tang "Tang" {
        advertisement: Option<String> = "advertisement" omitempty V3_4;
        thumbprint: Option<String> = "thumbprint" omitempty V3_2;
        url: String = "url" omitempty V3_0;
    }
}

ignition_struct! {
    Tls "TLS" {
        certificate_authorities: Vec<Resource> = "certificateAuthorities" omitempty V3_0;
    }
}

ignition_struct! {
    Timeouts "Timeouts" {
        http_response_headers: Option<i64> = "httpResponseHeaders" omitempty V3_0;
        http_total: Option<i64> = "httpTotal" omitempty V3_0;
    }
}

ignition_struct! {
    Unit "Unit" {
        contents: Option<String> = "contents" omitempty V3_0;
        dropins: Vec<Dropin> = "dropins" omitempty V3_0;
        enabled: Option<bool> = "enabled" omitempty V3_0;
        mask: Option<bool> = "mask" omitempty V3_0;
        name: String = "name" always V3_0;
    }
}

ignition_struct! {
    Verification "Verification" {
        hash: Option<String> = "hash" omitempty V3_0;
    }
}

/// The Ignition spec minor version that added a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Since {
    V3_0,
    V3_1,
    V3_2,
    V3_3,
    V3_4,
}

/// The spec versions Butane for Flatcar writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    V3_3,
    V3_4,
}

impl Spec {
    /// Its minor version, the level its fields are gated at.
    pub fn minor(self) -> u8 {
        match self {
            Spec::V3_3 => 3,
            Spec::V3_4 => 4,
        }
    }

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
