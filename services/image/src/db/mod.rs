//! Image's entities and store functions: the only place with queries.
//! Empty until the image issue adds its tables.
