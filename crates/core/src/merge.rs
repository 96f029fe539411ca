//! Three-way merge of a queued edit (base → desired) onto the provider's current value.
