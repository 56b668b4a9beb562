//! `etcdserverpb.KV`: `Range` and `Put` of one token's keys; the rest `UNIMPLEMENTED`.

use std::sync::Arc;

use shared::v3::key::scope;
use shared::v3::{self, Refusal};
use tonic::{Request, Response, Status};

use super::etcdserverpb::kv_server::Kv;
use super::etcdserverpb::*;
use super::{header, kv, status, unavailable};
use crate::tokens::Tokens;

pub struct KvService {
    pub tokens: Arc<Tokens>,
}

#[tonic::async_trait]
impl Kv for KvService {
    async fn range(&self, req: Request<RangeRequest>) -> Result<Response<RangeResponse>, Status> {
        let req = req.into_inner();
        let scope = scope(&req.key, &req.range_end).map_err(status)?;
        let ask = v3::RangeRequest {
            limit: req.limit,
            revision: req.revision,
            keys_only: req.keys_only,
            count_only: req.count_only,
        };
        let found = self
            .tokens
            .read(scope.token, |reg| v3::range(reg, &scope, &ask))
            .await
            .map_err(unavailable)?;
        let r = found
            .unwrap_or_else(|| Err(Refusal::not_minted(&scope)))
            .map_err(status)?;
        Ok(Response::new(RangeResponse {
            header: header(r.revision),
            kvs: r.kvs.into_iter().map(kv).collect(),
            more: r.more,
            count: r.count,
        }))
    }

    async fn put(&self, req: Request<PutRequest>) -> Result<Response<PutResponse>, Status> {
        let req = req.into_inner();
        let scope = scope(&req.key, &[]).map_err(status)?;
        let ask = v3::PutRequest {
            value: req.value,
            lease: req.lease,
            prev_kv: req.prev_kv,
            ignore_value: req.ignore_value,
            ignore_lease: req.ignore_lease,
        };
        let found = self
            .tokens
            .write_with(scope.token, |reg, now| {
                let put = v3::put(reg, &scope, &ask, now);
                (put.written, put.response)
            })
            .await
            .map_err(unavailable)?;
        let r = found
            .unwrap_or_else(|| Err(Refusal::not_minted(&scope)))
            .map_err(status)?;
        Ok(Response::new(PutResponse {
            header: header(r.revision),
            prev_kv: r.prev_kv.map(kv),
        }))
    }

    async fn delete_range(
        &self,
        _: Request<DeleteRangeRequest>,
    ) -> Result<Response<DeleteRangeResponse>, Status> {
        Err(Status::unimplemented(
            "DeleteRange is not served: discovery members never delete",
        ))
    }

    async fn txn(&self, _: Request<TxnRequest>) -> Result<Response<TxnResponse>, Status> {
        Err(Status::unimplemented(
            "Txn is not served: discovery members put without transactions",
        ))
    }

    async fn compact(
        &self,
        _: Request<CompactionRequest>,
    ) -> Result<Response<CompactionResponse>, Status> {
        Err(Status::unimplemented(
            "Compact is not served: a token keeps its whole history",
        ))
    }
}
