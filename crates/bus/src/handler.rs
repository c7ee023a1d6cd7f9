//! The handler side of the bus: what a consumer is given ([`Incoming`]) and
//! the object-safe [`Handler`] trait, with [`handler_fn`] for closures.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::envelope::Envelope;
use crate::error::HandlerError;

/// One delivered message.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub envelope: Envelope,
    /// The topic served, or for a notification the event name it was
    /// published under (the routing key).
    pub topic: String,
    /// The broker delivered this message before, to this or another consumer
    /// that did not acknowledge it: the handler may be running it again.
    pub redelivered: bool,
}

/// Handles messages for [`crate::Bus::serve`] and [`crate::Bus::subscribe`].
///
/// `Ok(value)` acknowledges the message (and answers a call with `value`);
/// see [`HandlerError`] for the rest. A panic counts as
/// [`HandlerError::Retry`]. Handlers must be idempotent: a message can be
/// delivered again after a consumer dies mid-message.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, msg: Incoming) -> Result<Value, HandlerError>;
}

#[async_trait]
impl<H: Handler + ?Sized> Handler for Arc<H> {
    async fn handle(&self, msg: Incoming) -> Result<Value, HandlerError> {
        (**self).handle(msg).await
    }
}

#[async_trait]
impl<H: Handler + ?Sized> Handler for Box<H> {
    async fn handle(&self, msg: Incoming) -> Result<Value, HandlerError> {
        (**self).handle(msg).await
    }
}

/// A handler made from an async closure:
/// `handler_fn(|msg| async move { Ok(json!(null)) })`.
pub fn handler_fn<F, Fut>(f: F) -> FnHandler<F>
where
    F: Fn(Incoming) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, HandlerError>> + Send + 'static,
{
    FnHandler(f)
}

/// See [`handler_fn`].
pub struct FnHandler<F>(F);

#[async_trait]
impl<F, Fut> Handler for FnHandler<F>
where
    F: Fn(Incoming) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, HandlerError>> + Send + 'static,
{
    async fn handle(&self, msg: Incoming) -> Result<Value, HandlerError> {
        (self.0)(msg).await
    }
}
