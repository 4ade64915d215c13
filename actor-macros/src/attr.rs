//! The `name = "…"` arguments shared by `#[stateful_function(…)]` and the
//! `#[message(…)]` helper attribute of a handler.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitStr, Meta, Token};

/// Parses `name = "…"` out of an attribute's arguments. Returns the name if
/// it is given and valid; records every mistake in `errors`.
///
/// `form` is the attribute written correctly, quoted in every message.
pub(crate) fn parse_name(
    args: TokenStream,
    form: &str,
    errors: &mut crate::errors::Errors,
) -> Option<LitStr> {
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(metas) => metas,
        Err(error) => {
            errors.at(
                error.span(),
                format!("malformed arguments ({error}): write `{form}`"),
            );
            return None;
        }
    };
    let mut name = None;
    let mut seen = false;
    for meta in &metas {
        let key = meta.path();
        if !key.is_ident("name") {
            let key_text = key.to_token_stream().to_string().replace(' ', "");
            errors.spanned(
                key,
                format!(
                    "unknown argument `{key_text}`: the only argument is `name`, as in `{form}`"
                ),
            );
            continue;
        }
        if std::mem::replace(&mut seen, true) {
            errors.spanned(
                key,
                format!("`name` is given twice: give it once, as in `{form}`"),
            );
            continue;
        }
        let Meta::NameValue(pair) = meta else {
            errors.spanned(meta, format!("`name` takes a string: write `{form}`"));
            continue;
        };
        let Expr::Lit(ExprLit {
            lit: Lit::Str(literal),
            ..
        }) = &pair.value
        else {
            errors.spanned(
                &pair.value,
                format!("`name` must be a string literal: write `{form}`"),
            );
            continue;
        };
        if literal.value().is_empty() {
            errors.spanned(
                literal,
                format!("the name must not be empty: write `{form}`"),
            );
            continue;
        }
        name = Some(literal.clone());
    }
    name
}
