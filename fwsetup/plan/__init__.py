"""Planning: recipes and the request in, a Plan (or a Refusal that explains itself) out."""
