//! The one error type of every subgraph, and its mapping to the contract's codes.
//!
//! Resolvers return `async_graphql::Result`; `?` on a `folio_common::Result` converts
//! through `From<Error> for async_graphql::Error`, which sets `extensions.code` (and
//! `extensions.field` for bad input). `Error` deliberately has no `Display`: that keeps
//! async-graphql's blanket `From<T: Display>` (which would copy any message, SQL
//! included, to the client) from ever applying to it.

use async_graphql::ErrorExtensions;
use std::sync::Arc;

/// The error codes of the public contract (`extensions.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Unauthenticated,
    Forbidden,
    BadUserInput,
    NotFound,
    Conflict,
    /// Too many attempts from one client (or at one account) in too short a time.
    RateLimited,
    /// Another service this one needed did not answer in time (or at all).
    SubgraphUnavailable,
    Internal,
}

impl Code {
    /// Every code, in the order of the enum.
    pub const ALL: [Code; 8] = [
        Code::Unauthenticated,
        Code::Forbidden,
        Code::BadUserInput,
        Code::NotFound,
        Code::Conflict,
        Code::RateLimited,
        Code::SubgraphUnavailable,
        Code::Internal,
    ];

    /// The code as it appears in `extensions.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::Forbidden => "FORBIDDEN",
            Code::BadUserInput => "BAD_USER_INPUT",
            Code::NotFound => "NOT_FOUND",
            Code::Conflict => "CONFLICT",
            Code::RateLimited => "RATE_LIMITED",
            Code::SubgraphUnavailable => "SUBGRAPH_UNAVAILABLE",
            Code::Internal => "INTERNAL_SERVER_ERROR",
        }
    }
}

/// Everything that can go wrong in a service, by what the client should learn.
#[derive(Debug, Clone)]
pub enum Error {
    /// No, bad or expired credentials where they are needed.
    Unauthenticated(&'static str),
    /// Signed in, but not allowed.
    Forbidden(String),
    /// An id argument that names nothing; the payload names the kind of thing.
    NotFound(&'static str),
    /// An input field that breaks a rule; `field` is spelled as in the schema.
    Validation { field: String, message: String },
    /// A uniqueness rule would be broken (e.g. an email already registered).
    Conflict {
        field: Option<&'static str>,
        message: String,
    },
    /// Products that cannot be sold as asked (not enough stock, or no longer on sale):
    /// `CONFLICT`, with their ids in `extensions.products`.
    Unsellable(Vec<String>),
    /// Too many attempts (e.g. sign-ins at one email): `RATE_LIMITED`, with the seconds
    /// until the next attempt may succeed in `extensions.retryAfter`.
    RateLimited { retry_after_secs: u64 },
    /// A service this one calls (named, e.g. "interactions") failed or timed out: the
    /// same code the router gives when it cannot reach a subgraph.
    Unavailable(&'static str),
    /// Anything else. Logged once when it becomes a GraphQL error; the client only
    /// ever sees "internal error".
    Internal(Arc<dyn std::error::Error + Send + Sync>),
}

/// The result type of service code.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The contract's code for this error.
    pub fn code(&self) -> Code {
        match self {
            Error::Unauthenticated(_) => Code::Unauthenticated,
            Error::Forbidden(_) => Code::Forbidden,
            Error::NotFound(_) => Code::NotFound,
            Error::Validation { .. } => Code::BadUserInput,
            Error::Conflict { .. } | Error::Unsellable(_) => Code::Conflict,
            Error::RateLimited { .. } => Code::RateLimited,
            Error::Unavailable(_) => Code::SubgraphUnavailable,
            Error::Internal(_) => Code::Internal,
        }
    }

    /// A `FORBIDDEN` error with a message.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Forbidden(message.into())
    }

    /// A `BAD_USER_INPUT` error naming `field`.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// An internal error from any source; its details are logged, never returned.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Internal(Arc::from(source.into()))
    }

    /// The message the client sees.
    pub fn client_message(&self) -> String {
        match self {
            Error::Unauthenticated(m) => (*m).to_owned(),
            Error::Forbidden(m) => m.clone(),
            Error::NotFound(what) => format!("{what} not found"),
            Error::Validation { field, message } => format!("{field}: {message}"),
            Error::Conflict { message, .. } => message.clone(),
            Error::Unsellable(products) => format!(
                "not enough stock, or no longer on sale: {}",
                products.join(", ")
            ),
            Error::RateLimited { retry_after_secs } => {
                format!("too many attempts: try again in {retry_after_secs} s")
            }
            Error::Unavailable(service) => format!("the {service} service is unavailable"),
            Error::Internal(_) => "internal error".to_owned(),
        }
    }

    /// What went wrong, for logs only and never for a client: the client's message, but
    /// for an internal error its real cause (with the errors beneath it), which
    /// [`client_message`](Self::client_message) hides behind "internal error". Workers
    /// with no client (the outbox relay, event consumers) log this, or the cause of
    /// their failures would be lost.
    pub fn log_message(&self) -> String {
        match self {
            Error::Internal(source) => with_sources(source.as_ref()),
            _ => self.client_message(),
        }
    }
}

/// `e`'s message followed by those of its sources, each said once (many errors already
/// include their source's message in their own).
fn with_sources(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(source) = next {
        let more = source.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        next = source.source();
    }
    text
}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        Error::internal(e)
    }
}

impl From<sea_orm::TransactionError<Error>> for Error {
    fn from(e: sea_orm::TransactionError<Error>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => Error::from(db),
            sea_orm::TransactionError::Transaction(inner) => inner,
        }
    }
}

impl From<Error> for async_graphql::Error {
    fn from(e: Error) -> Self {
        if let Error::Internal(_) = &e {
            tracing::error!(error = %e.log_message(), "internal error");
        }
        let mut err = async_graphql::Error::new(e.client_message());
        let code = e.code().as_str();
        err = err.extend_with(|_, ext| ext.set("code", code));
        match &e {
            Error::Validation { field, .. } => {
                let field = field.clone();
                err.extend_with(|_, ext| ext.set("field", field))
            }
            Error::Conflict {
                field: Some(field), ..
            } => err.extend_with(|_, ext| ext.set("field", *field)),
            Error::Unavailable(service) => err.extend_with(|_, ext| ext.set("service", *service)),
            Error::RateLimited { retry_after_secs } => {
                let secs = *retry_after_secs;
                err.extend_with(|_, ext| ext.set("retryAfter", secs))
            }
            Error::Unsellable(products) => {
                let products: Vec<async_graphql::Value> =
                    products.iter().map(|p| p.as_str().into()).collect();
                err.extend_with(|_, ext| ext.set("products", products))
            }
            _ => err,
        }
    }
}

/// Why a raw input value is not a valid domain value, before we know which input
/// field it came from: the API attaches the schema's field name with [`InvalidInput::on`],
/// the CSV importer attaches the column and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput(pub String);

impl InvalidInput {
    /// A reason, in words a client can act on ("must be at least 8 characters").
    pub fn new(reason: impl Into<String>) -> Self {
        InvalidInput(reason.into())
    }

    /// The `BAD_USER_INPUT` error for the schema's input field `field`.
    pub fn on(self, field: &str) -> Error {
        Error::validation(field, self.0)
    }
}

impl std::fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a database error is a unique-constraint violation, the same way on
/// SQLite and PostgreSQL (through sea-orm's `sql_err`, not by reading messages).
pub fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_source() {
        let e = Error::internal("SELECT * FROM users failed: syntax error");
        let gql: async_graphql::Error = e.into();
        assert_eq!(gql.message, "internal error");
        let ext = gql.extensions.expect("extensions");
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("INTERNAL_SERVER_ERROR"))
        );
    }

    #[test]
    fn logs_see_the_cause_clients_do_not() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("writing the outbox failed")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Error::internal(Outer(std::io::Error::other("disk full")));
        assert_eq!(e.client_message(), "internal error");
        assert_eq!(e.log_message(), "writing the outbox failed: disk full");
        let said_once = Error::internal("relation \"users_outbox\" does not exist");
        assert_eq!(
            said_once.log_message(),
            "relation \"users_outbox\" does not exist"
        );
        let public = Error::NotFound("user");
        assert_eq!(public.log_message(), public.client_message());
        let gql: async_graphql::Error = e.into();
        assert_eq!(gql.message, "internal error");
    }

    #[test]
    fn validation_errors_name_their_field() {
        let gql: async_graphql::Error = InvalidInput::new("too short").on("newPassword").into();
        let ext = gql.extensions.expect("extensions");
        assert_eq!(
            ext.get("field"),
            Some(&async_graphql::Value::from("newPassword"))
        );
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("BAD_USER_INPUT"))
        );
    }
}
