"""K — 近亲属与"人情保""关系保" (close relatives and favour cases)."""

LABEL = "近亲属与人情保"
