//! Network's entities and store functions: the only place with queries.
//! Empty until the network issue adds its tables.
