//! Products with variants: a [`Parent`] groups the SKUs that are variants of one title
//! (a DVD and a Blu-ray). Stock, sales and prices stay on the variants; the parent is only
//! what WooCommerce shows as a variable product.

use super::*;

/// A product with variants (WooCommerce's variable product).
#[derive(Debug, Clone)]
pub(crate) struct Parent {
    pub id: u64,
    pub title: String,
    pub created_at: Time,
}

impl Core {
    /// The parent with id `id`.
    pub fn parent(&self, id: u64) -> Option<&Parent> {
        let index = usize::try_from(id).ok()?.checked_sub(1)?;
        self.parents.get(index)
    }

    /// The variants of parent `id`, in catalog order.
    pub fn variants(&self, id: u64) -> impl Iterator<Item = &Product> {
        self.products.iter().filter(move |p| p.parent == Some(id))
    }

    /// The id of the parent titled `title`, created if there is none yet.
    pub(super) fn parent_named(&mut self, title: &str, now: Time) -> u64 {
        if let Some(found) = self.parents.iter().find(|p| p.title == title) {
            return found.id;
        }
        let id = self.parents.len() as u64 + 1;
        self.parents.push(Parent {
            id,
            title: title.to_owned(),
            created_at: now,
        });
        id
    }

    /// When parent `id` or any of its variants last changed.
    pub fn parent_modified(&self, id: u64) -> Option<Time> {
        let parent = self.parent(id)?;
        Some(
            self.variants(id)
                .map(Product::last_modified)
                .fold(parent.created_at, Time::max),
        )
    }
}
