use cairn::stateful_function;

#[stateful_function]
pub struct Account<T> {
    balance: T,
}

fn main() {}
