//! Identity's entities and store functions: the only place with queries.
//! Empty until the identity issue adds its tables.
