//! Turning stored text back into typed values; a failure means corrupt data, not bad input.

use concord_domain::Role;

use crate::error::{Result, StorageError};

/// Parses a stored id of type `T`.
pub(crate) fn id<T: TryFrom<String>>(value: &str) -> Result<T> {
    T::try_from(value.to_owned()).map_err(|_| StorageError::Corrupt(format!("id `{value}`")))
}

/// Parses a stored role name.
pub(crate) fn role(value: &str) -> Result<Role> {
    value
        .parse()
        .map_err(|_| StorageError::Corrupt(format!("role `{value}`")))
}

/// Parses a stored value with the domain's own parser.
pub(crate) fn parsed<T, E>(value: &str, parse: impl FnOnce(&str) -> Result<T, E>) -> Result<T> {
    parse(value).map_err(|_| StorageError::Corrupt(format!("value `{value}`")))
}
