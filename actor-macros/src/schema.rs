//! The schema hash of a stateful function's state: an xxh3 of a canonical
//! description of its fields.
//!
//! The description lists, in declaration order, each field's name (its
//! index for a tuple struct) and its type's tokens, each token separated by
//! one space whatever the source formatting. The shape of the struct (named
//! fields, tuple or unit) is part of it; attributes, docs, visibility and
//! the struct's own name are not.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::Fields;
use xxhash_rust::xxh3::xxh3_64;

/// The schema hash of a struct with these fields.
pub(crate) fn schema_hash(fields: &Fields) -> u64 {
    xxh3_64(describe(fields).as_bytes())
}

/// The canonical description of a struct's fields, the input of the hash.
fn describe(fields: &Fields) -> String {
    let (open, close) = match fields {
        Fields::Named(_) => ('{', '}'),
        Fields::Unnamed(_) => ('(', ')'),
        Fields::Unit => return String::from(";"),
    };
    let mut description = String::from(open);
    for (index, field) in fields.iter().enumerate() {
        match &field.ident {
            Some(ident) => description.push_str(&ident.unraw().to_string()),
            None => description.push_str(&index.to_string()),
        }
        description.push(':');
        description.push_str(&canonical_tokens(field.ty.to_token_stream()));
        description.push(';');
    }
    description.push(close);
    description
}

/// `tokens` printed with exactly one space between tokens, so that two
/// formattings of the same tokens print the same.
pub(crate) fn canonical_tokens(tokens: TokenStream) -> String {
    let mut out = String::new();
    write_canonical(tokens, &mut out);
    out
}

fn write_canonical(tokens: TokenStream, out: &mut String) {
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ('(', ')'),
                    Delimiter::Brace => ('{', '}'),
                    Delimiter::Bracket => ('[', ']'),
                    // An invisible group (a type passed through `macro_rules!`)
                    // prints as its contents.
                    Delimiter::None => {
                        write_canonical(group.stream(), out);
                        continue;
                    }
                };
                separate(out);
                out.push(open);
                write_canonical(group.stream(), out);
                separate(out);
                out.push(close);
            }
            TokenTree::Ident(ident) => {
                separate(out);
                out.push_str(&ident.to_string());
            }
            TokenTree::Punct(punct) => {
                separate(out);
                out.push(punct.as_char());
            }
            TokenTree::Literal(literal) => {
                separate(out);
                out.push_str(&literal.to_string());
            }
        }
    }
}

/// Puts one space before the next token, except at the start.
fn separate(out: &mut String) {
    if !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(tokens: &str) -> Fields {
        let item: syn::ItemStruct = syn::parse_str(tokens).unwrap();
        item.fields
    }

    #[test]
    fn formatting_docs_attributes_and_visibility_do_not_count() {
        let compact = fields("struct A { a: Vec<Option<u8>>, b: [u8; 4] }");
        let spread = fields(
            "struct B {\n  /// Doc.\n  #[serde(default)]\n  pub a : Vec < Option<u8> > ,\n  pub(crate) b: [ u8 ;4 ],\n}",
        );
        assert_eq!(describe(&compact), describe(&spread));
        assert_eq!(schema_hash(&compact), schema_hash(&spread));
        assert_eq!(
            describe(&compact),
            "{a:Vec < Option < u8 > >;b:[ u8 ; 4 ];}"
        );
    }

    #[test]
    fn names_order_types_and_shape_count() {
        let base = schema_hash(&fields("struct A { a: u8, b: u16 }"));
        for other in [
            "struct A { a: u8, c: u16 }",
            "struct A { b: u16, a: u8 }",
            "struct A { a: u8, b: u32 }",
            "struct A { a: u8 }",
            "struct A(u8, u16);",
            "struct A;",
        ] {
            assert_ne!(base, schema_hash(&fields(other)), "{other}");
        }
    }

    #[test]
    fn raw_field_names_are_unraw() {
        assert_eq!(describe(&fields("struct A { r#type: u8 }")), "{type:u8;}");
        assert_eq!(
            describe(&fields("struct A(u8, String);")),
            "(0:u8;1:String;)"
        );
        assert_eq!(describe(&fields("struct A;")), ";");
    }

    #[test]
    fn invisible_groups_print_as_their_contents() {
        use proc_macro2::Group;
        let inner: TokenStream = syn::parse_str("Vec<u8>").unwrap();
        let grouped: TokenStream =
            TokenTree::Group(Group::new(Delimiter::None, inner.clone())).into();
        assert_eq!(canonical_tokens(grouped), canonical_tokens(inner));
    }
}
