//! Types every Virga service shares: configuration, the API error and its
//! report, request ids, pagination, typed ids and log set-up. Nothing here
//! touches a database, the bus or a socket.

pub mod config;
pub mod error;
pub mod ids;
pub mod links;
pub mod logging;
pub mod mac;
pub mod pagination;
pub mod request_id;

pub use config::Config;
pub use error::{Error, ErrorReport};
pub use request_id::RequestId;
