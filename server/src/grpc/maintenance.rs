//! `etcdserverpb.Maintenance/Status`, for health checks (`etcdctl endpoint status`).

use tonic::{Request, Response, Status};

use super::etcdserverpb::maintenance_server::Maintenance;
use super::etcdserverpb::{StatusRequest, StatusResponse};
use super::{header, MEMBER_ID};

pub struct MaintenanceService;

#[tonic::async_trait]
impl Maintenance for MaintenanceService {
    async fn status(&self, _: Request<StatusRequest>) -> Result<Response<StatusResponse>, Status> {
        Ok(Response::new(StatusResponse {
            header: header(0),
            // The etcd API version this subset follows.
            version: "3.5.0".into(),
            leader: MEMBER_ID,
            raft_term: 1,
            ..StatusResponse::default()
        }))
    }
}
