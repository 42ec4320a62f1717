//! Just enough GraphQL to answer a client the way a real server does: the document is
//! parsed (operations, fragments, arguments, variables, directives), the resolver builds a
//! full object per root field, and [`project`] trims it to exactly the selection set asked
//! for, with aliases. [`cost`] estimates a query's cost the way Shopify's calculator does
//! (objects 1, connections 2 + page size × node cost, scalars 0, mutations 10).

use std::collections::HashMap;

use serde_json::{Map, Value};

/// A parsed document.
#[derive(Debug, Clone, Default)]
pub(crate) struct Document {
    pub operations: Vec<Operation>,
    pub fragments: HashMap<String, Vec<Selection>>,
}

/// `query` or `mutation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Query,
    Mutation,
    Subscription,
}

/// One operation of the document.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub kind: Kind,
    pub name: Option<String>,
    /// Default values of the declared variables.
    pub defaults: Map<String, Value>,
    pub selections: Vec<Selection>,
}

/// A selection in a selection set.
#[derive(Debug, Clone)]
pub(crate) enum Selection {
    Field(Field),
    Spread(String),
    Inline(Vec<Selection>),
}

/// A field with its arguments and sub-selection.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub alias: Option<String>,
    pub name: String,
    pub args: Vec<(String, GValue)>,
    pub directives: Vec<Directive>,
    pub selections: Vec<Selection>,
}

/// A directive (`@idempotent(key: $key)`).
#[derive(Debug, Clone)]
pub(crate) struct Directive {
    pub name: String,
    pub args: Vec<(String, GValue)>,
}

/// A literal or variable in the document.
#[derive(Debug, Clone)]
pub(crate) enum GValue {
    Variable(String),
    Json(Value),
    List(Vec<GValue>),
    Object(Vec<(String, GValue)>),
}

impl GValue {
    /// The value with variables replaced from `vars`.
    pub fn resolve(&self, vars: &Map<String, Value>) -> Value {
        match self {
            GValue::Variable(name) => vars.get(name).cloned().unwrap_or(Value::Null),
            GValue::Json(v) => v.clone(),
            GValue::List(items) => Value::Array(items.iter().map(|i| i.resolve(vars)).collect()),
            GValue::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.resolve(vars)))
                    .collect(),
            ),
        }
    }
}

impl Field {
    /// The key this field has in the response.
    pub fn key(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.name)
    }

    /// Argument `name` resolved against `vars`, if given.
    pub fn arg(&self, name: &str, vars: &Map<String, Value>) -> Option<Value> {
        self.args
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.resolve(vars))
            .filter(|v| !v.is_null())
    }

    /// Directive `name`, if present.
    pub fn directive(&self, name: &str) -> Option<&Directive> {
        self.directives.iter().find(|d| d.name == name)
    }
}

impl Directive {
    /// Argument `name` resolved against `vars`.
    pub fn arg(&self, name: &str, vars: &Map<String, Value>) -> Option<Value> {
        self.args
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.resolve(vars))
            .filter(|v| !v.is_null())
    }
}

impl Document {
    /// The operation to run: the one called `name`, or the only one.
    pub fn operation(&self, name: Option<&str>) -> Result<&Operation, String> {
        match name {
            Some(wanted) => self
                .operations
                .iter()
                .find(|o| o.name.as_deref() == Some(wanted))
                .ok_or_else(|| format!("No operation named \"{wanted}\"")),
            None => match self.operations.as_slice() {
                [only] => Ok(only),
                [] => Err("No operations in query document".into()),
                _ => Err(
                    "An operation name is required when the document has several operations".into(),
                ),
            },
        }
    }

    /// The fields of `selections` with fragments spread in.
    pub fn fields<'a>(&'a self, selections: &'a [Selection]) -> Vec<&'a Field> {
        let mut out = Vec::new();
        self.collect(selections, &mut out, 0);
        out
    }

    fn collect<'a>(&'a self, selections: &'a [Selection], out: &mut Vec<&'a Field>, depth: usize) {
        if depth > 16 {
            return;
        }
        for selection in selections {
            match selection {
                Selection::Field(f) => out.push(f),
                Selection::Inline(inner) => self.collect(inner, out, depth + 1),
                Selection::Spread(name) => {
                    if let Some(inner) = self.fragments.get(name) {
                        self.collect(inner, out, depth + 1);
                    }
                }
            }
        }
    }

    /// The first field called `name` among `selections` (fragments spread in), searching
    /// through `nodes`/`edges`/`node` wrappers too.
    pub fn find<'a>(&'a self, selections: &'a [Selection], name: &str) -> Option<&'a Field> {
        for field in self.fields(selections) {
            if field.name == name {
                return Some(field);
            }
            if matches!(field.name.as_str(), "nodes" | "edges" | "node")
                && let Some(found) = self.find(&field.selections, name)
            {
                return Some(found);
            }
        }
        None
    }
}

/// `full` trimmed to the fields `selections` ask for, under their aliases. Lists are
/// trimmed element by element; a field the object lacks comes back `null`.
pub(crate) fn project(doc: &Document, full: &Value, selections: &[Selection]) -> Value {
    match full {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| project(doc, item, selections))
                .collect(),
        ),
        Value::Object(map) => {
            let mut out = Map::new();
            for field in doc.fields(selections) {
                let value = map.get(&field.name).cloned().unwrap_or(Value::Null);
                let value = if field.selections.is_empty() {
                    value
                } else {
                    project(doc, &value, &field.selections)
                };
                out.insert(field.key().to_owned(), value);
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// The page size a connection field asks for (`first` or `last`).
pub(crate) fn page_size(field: &Field, vars: &Map<String, Value>) -> Option<i64> {
    field
        .arg("first", vars)
        .or_else(|| field.arg("last", vars))
        .and_then(|v| v.as_i64())
}

/// The calculated cost of `field` the way Shopify estimates it before running a query.
pub(crate) fn cost(doc: &Document, field: &Field, vars: &Map<String, Value>) -> i64 {
    if field.selections.is_empty() {
        return 0;
    }
    let children = doc.fields(&field.selections);
    match page_size(field, vars) {
        Some(n) => {
            let mut node = 1;
            for child in &children {
                match child.name.as_str() {
                    "nodes" => node += children_cost(doc, &child.selections, vars),
                    "edges" => {
                        for inner in doc.fields(&child.selections) {
                            if inner.name == "node" {
                                node += children_cost(doc, &inner.selections, vars);
                            }
                        }
                    }
                    _ => {}
                }
            }
            2 + n.max(0) * node
        }
        None => 1 + children_cost(doc, &field.selections, vars),
    }
}

fn children_cost(doc: &Document, selections: &[Selection], vars: &Map<String, Value>) -> i64 {
    doc.fields(selections)
        .into_iter()
        .map(|f| cost(doc, f, vars))
        .sum()
}

/// Parses a GraphQL document.
pub(crate) fn parse(source: &str) -> Result<Document, String> {
    let tokens = lex(source)?;
    let mut parser = Parser { tokens, pos: 0 };
    let mut doc = Document::default();
    while !parser.done() {
        match parser.peek() {
            Some(Token::Punct('{')) => {
                let selections = parser.selection_set()?;
                doc.operations.push(Operation {
                    kind: Kind::Query,
                    name: None,
                    defaults: Map::new(),
                    selections,
                });
            }
            Some(Token::Name(word)) if word == "fragment" => {
                parser.pos += 1;
                let name = parser.name()?;
                parser.keyword("on")?;
                parser.name()?;
                parser.directives()?;
                let selections = parser.selection_set()?;
                doc.fragments.insert(name, selections);
            }
            Some(Token::Name(word)) => {
                let kind = match word.as_str() {
                    "query" => Kind::Query,
                    "mutation" => Kind::Mutation,
                    "subscription" => Kind::Subscription,
                    other => return Err(format!("Parse error on \"{other}\"")),
                };
                parser.pos += 1;
                let name = match parser.peek() {
                    Some(Token::Name(_)) => Some(parser.name()?),
                    _ => None,
                };
                let defaults = parser.variable_definitions()?;
                parser.directives()?;
                let selections = parser.selection_set()?;
                doc.operations.push(Operation {
                    kind,
                    name,
                    defaults,
                    selections,
                });
            }
            Some(token) => return Err(format!("Parse error on {}", token.describe())),
            None => break,
        }
    }
    Ok(doc)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Punct(char),
    Spread,
    Name(String),
    Int(String),
    Float(String),
    Str(String),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Punct(c) => format!("\"{c}\""),
            Token::Spread => "\"...\"".into(),
            Token::Name(n) | Token::Int(n) | Token::Float(n) => format!("\"{n}\""),
            Token::Str(s) => format!("string \"{s}\""),
        }
    }
}

fn lex(source: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() || c == ',' || c == '\u{feff}' => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '{' | '}' | '(' | ')' | '[' | ']' | ':' | '$' | '@' | '!' | '=' | '|' | '&' => {
                tokens.push(Token::Punct(c));
                i += 1;
            }
            '.' => {
                if chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') {
                    tokens.push(Token::Spread);
                    i += 3;
                } else {
                    return Err("Parse error on \".\"".into());
                }
            }
            '"' => {
                if chars.get(i + 1) == Some(&'"') && chars.get(i + 2) == Some(&'"') {
                    let start = i + 3;
                    let mut end = start;
                    while end + 2 < chars.len()
                        && !(chars[end] == '"' && chars[end + 1] == '"' && chars[end + 2] == '"')
                    {
                        end += 1;
                    }
                    if end + 2 >= chars.len() {
                        return Err("Unterminated block string".into());
                    }
                    tokens.push(Token::Str(chars[start..end].iter().collect()));
                    i = end + 3;
                } else {
                    let mut text = String::new();
                    i += 1;
                    loop {
                        let Some(&ch) = chars.get(i) else {
                            return Err("Unterminated string".into());
                        };
                        i += 1;
                        match ch {
                            '"' => break,
                            '\\' => {
                                let Some(&esc) = chars.get(i) else {
                                    return Err("Unterminated string".into());
                                };
                                i += 1;
                                match esc {
                                    'n' => text.push('\n'),
                                    't' => text.push('\t'),
                                    'r' => text.push('\r'),
                                    'b' => text.push('\u{8}'),
                                    'f' => text.push('\u{c}'),
                                    'u' => {
                                        let hex: String = chars
                                            .get(i..i + 4)
                                            .map(|s| s.iter().collect())
                                            .unwrap_or_default();
                                        let code = u32::from_str_radix(&hex, 16)
                                            .map_err(|_| "Bad unicode escape".to_owned())?;
                                        text.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                                        i += 4;
                                    }
                                    other => text.push(other),
                                }
                            }
                            other => text.push(other),
                        }
                    }
                    tokens.push(Token::Str(text));
                }
            }
            c if c == '-' || c.is_ascii_digit() => {
                let start = i;
                i += 1;
                let mut float = false;
                while i < chars.len()
                    && (chars[i].is_ascii_digit()
                        || matches!(chars[i], '.' | 'e' | 'E' | '+' | '-'))
                {
                    if matches!(chars[i], '.' | 'e' | 'E') {
                        float = true;
                    }
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                tokens.push(if float {
                    Token::Float(text)
                } else {
                    Token::Int(text)
                });
            }
            c if c == '_' || c.is_ascii_alphabetic() => {
                let start = i;
                while i < chars.len() && (chars[i] == '_' || chars[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                tokens.push(Token::Name(chars[start..i].iter().collect()));
            }
            other => return Err(format!("Parse error on \"{other}\"")),
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn done(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Result<Token, String> {
        let token = self
            .tokens
            .get(self.pos)
            .cloned()
            .ok_or_else(|| "Unexpected end of document".to_owned())?;
        self.pos += 1;
        Ok(token)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.next()? {
            Token::Punct(p) if p == c => Ok(()),
            other => Err(format!(
                "Parse error on {} (expected \"{c}\")",
                other.describe()
            )),
        }
    }

    fn name(&mut self) -> Result<String, String> {
        match self.next()? {
            Token::Name(n) => Ok(n),
            other => Err(format!(
                "Parse error on {} (expected a name)",
                other.describe()
            )),
        }
    }

    fn keyword(&mut self, word: &str) -> Result<(), String> {
        let name = self.name()?;
        if name == word {
            Ok(())
        } else {
            Err(format!("Parse error on \"{name}\" (expected \"{word}\")"))
        }
    }

    fn variable_definitions(&mut self) -> Result<Map<String, Value>, String> {
        let mut defaults = Map::new();
        if !self.eat('(') {
            return Ok(defaults);
        }
        while !self.eat(')') {
            self.expect('$')?;
            let name = self.name()?;
            self.expect(':')?;
            self.type_ref()?;
            if self.eat('=') {
                let value = self.value(true)?;
                defaults.insert(name, value.resolve(&Map::new()));
            }
            self.directives()?;
        }
        Ok(defaults)
    }

    fn type_ref(&mut self) -> Result<(), String> {
        if self.eat('[') {
            self.type_ref()?;
            self.expect(']')?;
        } else {
            self.name()?;
        }
        self.eat('!');
        Ok(())
    }

    fn directives(&mut self) -> Result<Vec<Directive>, String> {
        let mut out = Vec::new();
        while self.eat('@') {
            let name = self.name()?;
            let args = self.arguments()?;
            out.push(Directive { name, args });
        }
        Ok(out)
    }

    fn arguments(&mut self) -> Result<Vec<(String, GValue)>, String> {
        let mut args = Vec::new();
        if !self.eat('(') {
            return Ok(args);
        }
        while !self.eat(')') {
            let name = self.name()?;
            self.expect(':')?;
            args.push((name, self.value(false)?));
        }
        Ok(args)
    }

    fn value(&mut self, constant: bool) -> Result<GValue, String> {
        match self.next()? {
            Token::Punct('$') if !constant => Ok(GValue::Variable(self.name()?)),
            Token::Int(text) => text
                .parse::<i64>()
                .map(|n| GValue::Json(Value::from(n)))
                .map_err(|_| format!("Bad integer {text}")),
            Token::Float(text) => text
                .parse::<f64>()
                .map(|n| GValue::Json(Value::from(n)))
                .map_err(|_| format!("Bad number {text}")),
            Token::Str(s) => Ok(GValue::Json(Value::String(s))),
            Token::Name(n) => Ok(GValue::Json(match n.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => Value::String(n),
            })),
            Token::Punct('[') => {
                let mut items = Vec::new();
                while !self.eat(']') {
                    items.push(self.value(constant)?);
                }
                Ok(GValue::List(items))
            }
            Token::Punct('{') => {
                let mut fields = Vec::new();
                while !self.eat('}') {
                    let name = self.name()?;
                    self.expect(':')?;
                    fields.push((name, self.value(constant)?));
                }
                Ok(GValue::Object(fields))
            }
            other => Err(format!(
                "Parse error on {} (expected a value)",
                other.describe()
            )),
        }
    }

    fn selection_set(&mut self) -> Result<Vec<Selection>, String> {
        self.expect('{')?;
        let mut selections = Vec::new();
        while !self.eat('}') {
            if self.peek() == Some(&Token::Spread) {
                self.pos += 1;
                match self.peek() {
                    Some(Token::Name(word)) if word == "on" => {
                        self.pos += 1;
                        self.name()?;
                        self.directives()?;
                        selections.push(Selection::Inline(self.selection_set()?));
                    }
                    Some(Token::Name(_)) => {
                        let name = self.name()?;
                        self.directives()?;
                        selections.push(Selection::Spread(name));
                    }
                    _ => {
                        self.directives()?;
                        selections.push(Selection::Inline(self.selection_set()?));
                    }
                }
                continue;
            }
            let first = self.name()?;
            let (alias, name) = if self.eat(':') {
                (Some(first), self.name()?)
            } else {
                (None, first)
            };
            let args = self.arguments()?;
            let directives = self.directives()?;
            let selections_inner = if self.peek() == Some(&Token::Punct('{')) {
                self.selection_set()?
            } else {
                Vec::new()
            };
            selections.push(Selection::Field(Field {
                alias,
                name,
                args,
                directives,
                selections: selections_inner,
            }));
        }
        Ok(selections)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const QUERY: &str = r#"
        # Variants with their stock item.
        query ProductVariants($first: Int = 50, $after: String) {
          productVariants(first: $first, after: $after, query: "sku:\"A\"") {
            nodes { id sku ...Item }
            pageInfo { hasNextPage endCursor }
          }
        }
        fragment Item on ProductVariant { inventoryItem { id } }
    "#;

    #[test]
    fn parses_operations_fragments_and_variables() {
        let doc = parse(QUERY).expect("parses");
        let op = doc.operation(Some("ProductVariants")).expect("named");
        assert_eq!(op.kind, Kind::Query);
        assert_eq!(op.defaults.get("first"), Some(&json!(50)));
        let root = doc.fields(&op.selections);
        assert_eq!(root[0].name, "productVariants");
        let vars = op.defaults.clone();
        assert_eq!(root[0].arg("first", &vars), Some(json!(50)));
        assert_eq!(root[0].arg("query", &vars), Some(json!("sku:\"A\"")));
        assert_eq!(root[0].arg("after", &vars), None);
        assert_eq!(cost(&doc, root[0], &vars), 2 + 50 * 2);
    }

    #[test]
    fn projection_keeps_exactly_the_selection() {
        let doc = parse(QUERY).expect("parses");
        let op = doc.operation(None).expect("one");
        let root = doc.fields(&op.selections)[0];
        let full = json!({
            "nodes": [{"id": "1", "sku": "A", "barcode": "x", "inventoryItem": {"id": "9", "tracked": true}}],
            "pageInfo": {"hasNextPage": false, "endCursor": null, "startCursor": "c"}
        });
        let out = project(&doc, &full, &root.selections);
        assert_eq!(
            out,
            json!({
                "nodes": [{"id": "1", "sku": "A", "inventoryItem": {"id": "9"}}],
                "pageInfo": {"hasNextPage": false, "endCursor": null}
            })
        );
    }

    #[test]
    fn mutations_with_directives_and_object_literals() {
        let doc = parse(
            r#"mutation InventorySet($input: InventorySetQuantitiesInput!, $key: String!) {
                 inventorySetQuantities(input: $input) @idempotent(key: $key) {
                   userErrors { field message code }
                 }
                 other: shop { name }
               }"#,
        )
        .expect("parses");
        let op = doc.operation(None).expect("one");
        assert_eq!(op.kind, Kind::Mutation);
        let fields = doc.fields(&op.selections);
        let vars: Map<String, Value> = serde_json::from_value(json!({"key": "k-1"})).expect("map");
        let key = fields[0]
            .directive("idempotent")
            .and_then(|d| d.arg("key", &vars));
        assert_eq!(key, Some(json!("k-1")));
        assert_eq!(fields[1].key(), "other");
        let literal = parse(r#"{ a(input: {name: "available", list: [1, 2], on: true}) { b } }"#)
            .expect("parses");
        let op = literal.operation(None).expect("one");
        let a = literal.fields(&op.selections)[0];
        assert_eq!(
            a.arg("input", &Map::new()),
            Some(json!({"name": "available", "list": [1, 2], "on": true}))
        );
        assert!(parse("{ a(").is_err());
        assert!(parse("query { a }} ").is_err());
    }
}
