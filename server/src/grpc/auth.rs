//! `etcdserverpb.Auth/Authenticate`: a member started with `--discovery-user` calls it once.
//! This service has no users, as an etcd with authentication off: it answers as such an etcd
//! does, so the member's error names the cause.

use tonic::{Request, Response, Status};

use super::etcdserverpb::auth_server::Auth;
use super::etcdserverpb::{AuthenticateRequest, AuthenticateResponse};
use super::status;

pub struct AuthService;

#[tonic::async_trait]
impl Auth for AuthService {
    async fn authenticate(
        &self,
        _: Request<AuthenticateRequest>,
    ) -> Result<Response<AuthenticateResponse>, Status> {
        Err(status(shared::v3::authenticate()))
    }
}
