//! Builds the v3 API's messages, service traits (the v3 server) and clients (the etcd store)
//! from proto/ with protox, a protobuf compiler in Rust, so no `protoc` binary is needed.

fn main() {
    println!("cargo:rerun-if-changed=proto");
    let files = protox::compile(["rpc.proto"], ["proto"]).expect("proto/ compiles");
    tonic_prost_build::configure()
        .build_client(true)
        .compile_fds(files)
        .expect("the gRPC code is generated");
}
