//! The client side of the server's v3 API subset (`../server/proto`), for simulated etcd 3.6+
//! members; built with protox, so no `protoc` is needed.

fn main() {
    println!("cargo:rerun-if-changed=../server/proto");
    let files = protox::compile(["rpc.proto"], ["../server/proto"]).expect("the protos compile");
    tonic_prost_build::configure()
        .build_server(false)
        .compile_fds(files)
        .expect("the gRPC client is generated");
}
