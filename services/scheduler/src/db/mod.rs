//! Scheduler's entities and store functions: the only place with queries.
//! Empty until the scheduler issue adds its tables.
