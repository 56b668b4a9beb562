//! `etcdserverpb.KV`: `Range` and `Put` of one token's keys; the rest `UNIMPLEMENTED`.

use std::sync::Arc;

use shared::v3::key::scope;
use shared::v3::{self, Unserved};
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
        let r = self
            .tokens
            .view(scope.token, |reg| v3::range(reg, &scope, &ask))
            .await
            .map_err(unavailable)?
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
        let r = self
            .tokens
            .write(scope.token, |reg, now| {
                let put = v3::put(reg, &scope, &ask, now);
                (put.written, put.response)
            })
            .await
            .map_err(unavailable)?
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
        Err(status(Unserved::DeleteRange.refusal()))
    }

    async fn txn(&self, _: Request<TxnRequest>) -> Result<Response<TxnResponse>, Status> {
        Err(status(Unserved::Txn.refusal()))
    }

    async fn compact(
        &self,
        _: Request<CompactionRequest>,
    ) -> Result<Response<CompactionResponse>, Status> {
        Err(status(Unserved::Compact.refusal()))
    }
}
