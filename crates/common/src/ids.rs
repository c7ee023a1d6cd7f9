//! Typed UUID identifiers, one newtype per resource, so a server id can never
//! be passed where an image id is expected.

/// Declares `pub struct $name(Uuid)` with serde, Display, FromStr and an
/// OpenAPI schema (a UUID string).
#[macro_export]
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            ::serde::Serialize, ::serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub ::uuid::Uuid);

        impl $name {
            pub fn new() -> Self {
                $name(::uuid::Uuid::new_v4())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ::uuid::Uuid::parse_str(s).map($name)
            }
        }

        impl From<::uuid::Uuid> for $name {
            fn from(u: ::uuid::Uuid) -> Self {
                $name(u)
            }
        }

        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                ::utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(::utoipa::openapi::schema::Type::String)
                    .format(Some(::utoipa::openapi::SchemaFormat::KnownFormat(
                        ::utoipa::openapi::KnownFormat::Uuid,
                    )))
                    .into()
            }
        }

        impl ::utoipa::ToSchema for $name {}
    };
}

uuid_id!(
    /// Identifies one request/reply exchange or message on the bus.
    MessageId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_as_plain_uuid() {
        let id = MessageId::new();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        let back: MessageId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert_eq!(id.to_string().parse::<MessageId>().unwrap(), id);
        assert!("not-a-uuid".parse::<MessageId>().is_err());
    }
}
