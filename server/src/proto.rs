//! etcd's v3 messages, service traits (the v3 server, `grpc/`) and clients (the etcd store,
//! `store/etcd/`), built from `proto/` (see build.rs). Generated code keeps etcd's names, which
//! clippy would have otherwise.

#[allow(clippy::enum_variant_names, clippy::all)]
pub mod etcdserverpb {
    tonic::include_proto!("etcdserverpb");
}
#[allow(clippy::all)]
pub mod mvccpb {
    tonic::include_proto!("mvccpb");
}
