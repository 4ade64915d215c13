//! What an attribute was put on: named and located for error messages, and
//! checked for generics, which neither attribute accepts.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Generics, Item};

use crate::errors::Errors;

/// The kind of `item` as a noun phrase ("an enum"), and the span of the
/// keyword that makes it that kind.
pub(crate) fn describe(item: &Item) -> (&'static str, Span) {
    match item {
        Item::Const(item) => ("a constant", item.const_token.span),
        Item::Enum(item) => ("an enum", item.enum_token.span),
        Item::ExternCrate(item) => ("an `extern crate`", item.extern_token.span),
        Item::Fn(item) => ("a function", item.sig.fn_token.span),
        Item::ForeignMod(item) => ("an `extern` block", item.abi.extern_token.span),
        Item::Impl(item) => ("an impl block", item.impl_token.span),
        Item::Macro(item) => ("a macro invocation", item.mac.path.span()),
        Item::Mod(item) => ("a module", item.mod_token.span),
        Item::Static(item) => ("a static", item.static_token.span),
        Item::Struct(item) => ("a struct", item.struct_token.span),
        Item::Trait(item) => ("a trait", item.trait_token.span),
        Item::TraitAlias(item) => ("a trait alias", item.trait_token.span),
        Item::Type(item) => ("a type alias", item.type_token.span),
        Item::Union(item) => ("a union", item.union_token.span),
        Item::Use(item) => ("a `use` declaration", item.use_token.span),
        other => ("this item", other.span()),
    }
}

/// Records `message` at the generic parameters, or else at the `where`
/// clause, if there are any; returns whether there are none.
pub(crate) fn reject_generics(generics: &Generics, message: String, errors: &mut Errors) -> bool {
    if !generics.params.is_empty() {
        errors.spanned(generics, message);
        false
    } else if let Some(clause) = &generics.where_clause {
        errors.spanned(clause, message);
        false
    } else {
        true
    }
}
