"""Model output as HTML: Markdown and math (markdown, formulas), within a budget per
message (budget)."""
