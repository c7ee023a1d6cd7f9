//! End-to-end tests of the virga binary.
