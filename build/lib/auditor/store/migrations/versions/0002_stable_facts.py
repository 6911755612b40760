"""stable facts: occurrences.facts, and every stored facts hash recomputed under the rules' declared facts

The stored hashes were taken over the whole evidence minus a list of volatile
keys. Each occurrence's facts and hash are recomputed from its stored columns
and evidence (``auditor.engine.facts``, the rule catalogue's ``stable_facts``). A
finding's hash becomes the new hash of the latest occurrence that carried its
old hash (the facts it was dismissed or refreshed on), else of its latest
occurrence, so a finding dismissed on some facts stays dismissed while they
hold. Occurrences of a rule the catalogue does not know keep their hash.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

BATCH = 5000
ROW_COLUMNS = ("finding_id", "month", "rule", "street", "program", "person_id", "case_id", "staff_id",
               "bank_account", "application_id", "record_id", "amount_fen", "evidence", "facts_hash")
occurrences = sa.table("occurrences", *[sa.column(c) for c in ROW_COLUMNS], sa.column("facts"))
findings = sa.table("findings", sa.column("finding_id"), sa.column("facts_hash"))


def upgrade() -> None:
    with op.batch_alter_table('occurrences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('facts', sa.Text(), nullable=True))
    recompute(op.get_bind())


def recompute(conn: sa.Connection) -> None:
    """Recompute occurrences' facts and hashes and findings' hashes (see the module docstring)."""
    from auditor.engine.facts import canonical, facts_hash, facts_of

    old_of = dict(conn.execute(sa.select(findings.c.finding_id, findings.c.facts_hash)).all())
    rows = conn.execute(sa.select(*[occurrences.c[c] for c in ROW_COLUMNS])
                        .order_by(occurrences.c.finding_id, occurrences.c.month)).mappings().all()
    occ_updates, matched, latest = [], {}, {}
    for r in rows:
        try:
            facts = facts_of(r["rule"], dict(r), r["evidence"])
        except ValueError:  # a rule the catalogue does not know: left as stored
            continue
        new = facts_hash(r["rule"], facts)
        fid = r["finding_id"]
        occ_updates.append({"fid": fid, "m": r["month"], "h": new, "f": canonical(facts)})
        latest[fid] = new
        if r["facts_hash"] == old_of.get(fid):
            matched[fid] = new
    by_occ = sa.update(occurrences).where(occurrences.c.finding_id == sa.bindparam("fid"),
                                          occurrences.c.month == sa.bindparam("m"))
    for i in range(0, len(occ_updates), BATCH):
        conn.execute(by_occ.values(facts_hash=sa.bindparam("h"), facts=sa.bindparam("f")), occ_updates[i:i + BATCH])
    fnd_updates = [{"fid": fid, "h": matched.get(fid, h)} for fid, h in latest.items()]
    by_fid = sa.update(findings).where(findings.c.finding_id == sa.bindparam("fid"))
    for i in range(0, len(fnd_updates), BATCH):
        conn.execute(by_fid.values(facts_hash=sa.bindparam("h")), fnd_updates[i:i + BATCH])


def downgrade() -> None:
    with op.batch_alter_table('occurrences', schema=None) as batch_op:
        batch_op.drop_column('facts')
