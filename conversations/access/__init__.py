"""Who may use what: rules naming, for one thing of a kind (a model, a shared persona, a
tool), the groups whose members may use it. No rule: everyone may (models, selectors,
services; `kinds` lists the kinds; `policy` is the snapshot each process keeps)."""
