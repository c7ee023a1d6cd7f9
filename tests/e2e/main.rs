//! End-to-end tests of the services running together.

mod authz;
mod bus;
mod discovery;
mod errors;
mod image;
mod openapi;
