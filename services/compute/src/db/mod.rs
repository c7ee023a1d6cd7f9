//! Compute's entities and store functions: the only place with queries.
//! Empty until the compute issue adds its tables.
