//! The GraphQL-over-HTTP glue every subgraph mounts: identity check, execution, error codes.

use crate::error::Code;
use crate::identity::{IdentityKey, Viewer};
use async_graphql::{ObjectType, Schema, SubscriptionType};
use async_graphql_axum::GraphQLRequest;
use async_graphql_axum::rejection::GraphQLRejection;
use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// Unix time in seconds.
/// The federation v2 SDL of a subgraph's schema, as the router composes it and as
/// `_service { sdl }` serves it (each subgraph's golden `schema.graphql` is this text).
pub fn federation_sdl<Q, M>(query: Q, mutation: M) -> String
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
{
    Schema::build(query, mutation, async_graphql::EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(
            async_graphql::SDLExportOptions::new()
                .federation()
                .compose_directive(),
        )
}

pub fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A GraphQL response that carries only one coded error.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    });
    (status, Json(body)).into_response()
}

/// Executes `request` as the viewer that `headers` prove.
///
/// A body that is not a GraphQL request is refused with HTTP 400 and `BAD_REQUEST`; a
/// query that does not parse gets `GRAPHQL_PARSE_FAILED`. A forged identity proof is
/// refused with HTTP 401 and `UNAUTHENTICATED`. `per_request`
/// adds the request's data (the viewer is already added) such as dataloaders. Errors
/// that async-graphql raised without a code (syntax, validation, argument coercion) get
/// one, so every error a client sees has `extensions.code`.
pub async fn execute<Q, M, S>(
    schema: &Schema<Q, M, S>,
    key: &IdentityKey,
    headers: &HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
    per_request: impl FnOnce(async_graphql::Request, &Viewer) -> async_graphql::Request,
) -> Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let viewer = match key.verify(headers, now_unix()) {
        Ok(v) => v,
        Err(forged) => {
            tracing::warn!(
                reason = forged.0,
                "refused a request with a forged identity"
            );
            return error_response(
                StatusCode::UNAUTHORIZED,
                Code::Unauthenticated.as_str(),
                "identity headers did not come from the router",
            );
        }
    };
    let Ok(mut request) = request.map(GraphQLRequest::into_inner) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "the body is not a GraphQL request: expected JSON with a `query` string",
        );
    };
    if let Err(e) = request.parsed_query() {
        let mut response = async_graphql::Response::from_errors(vec![e]);
        for err in &mut response.errors {
            err.extensions
                .get_or_insert_with(Default::default)
                .set("code", "GRAPHQL_PARSE_FAILED");
        }
        return async_graphql_axum::GraphQLResponse::from(response).into_response();
    }
    let request = per_request(request, &viewer).data(viewer);
    let mut response = schema.execute(request).await;
    let executed = response.data != async_graphql::Value::Null;
    for err in &mut response.errors {
        let ext = err.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            let code = if executed || !err.path.is_empty() {
                Code::BadUserInput.as_str()
            } else {
                "GRAPHQL_VALIDATION_FAILED"
            };
            ext.set("code", code);
        }
    }
    async_graphql_axum::GraphQLResponse::from(response).into_response()
}
