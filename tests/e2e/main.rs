//! End-to-end tests of the services running together.

mod agent;
mod agent_network;
mod allocation_candidate;
mod authz;
mod bus;
mod consumer;
mod discovery;
mod errors;
mod flavor;
mod hypervisor;
mod key_pair;
mod microversion;
#[macro_use]
mod image;
mod image_data;
mod image_import;
mod image_location;
mod image_oci;
mod image_stores;
mod network;
mod node_plan;
mod node_report;
mod nova;
mod openapi;
mod quota_set;
mod reshaper;
mod resource_provider;
mod select;
mod server;
mod server_action;
mod server_group;
mod server_migration;
mod site;
mod site_server;
mod traits;
