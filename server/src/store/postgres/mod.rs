//! The PostgreSQL backend: several stateless server processes in front of one database.
//!
//! [`connect`] builds the pool (deadpool + tokio-postgres, TLS through rustls) and migrates
//! the schema.

pub mod connect;
pub mod import;
