//! Telemetry's entities and store functions: the only place with queries.
//! Empty until the telemetry issue adds its tables.
