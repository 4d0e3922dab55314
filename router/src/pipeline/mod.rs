//! The request pipeline, one stage per file in request order.

pub mod auth;
pub mod forward;
