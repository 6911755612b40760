"""finding_people: the people each finding involves (subject, payee, account holder, relative, on a path)

Built at run time by ``save_run``; this migration fills it for the occurrences already stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    from auditor.engine.people import people_of

    people = op.create_table(
        'finding_people',
        sa.Column('finding_id', sa.String(32), primary_key=True),
        sa.Column('month', sa.String(7), primary_key=True),
        sa.Column('person_id', sa.String(32), primary_key=True),
        sa.Column('role', sa.String(24), primary_key=True),
    )
    op.create_index('ix_finding_people_person_id', 'finding_people', ['person_id'])
    occ = sa.table("occurrences", sa.column("finding_id"), sa.column("month"), sa.column("person_id"),
                   sa.column("evidence"))
    conn = op.get_bind()
    rows = [{"finding_id": r.finding_id, "month": r.month, "person_id": p, "role": role}
            for r in conn.execute(sa.select(occ.c.finding_id, occ.c.month, occ.c.person_id, occ.c.evidence))
            for p, role in people_of(r.person_id, r.evidence)]
    for i in range(0, len(rows), BATCH):
        op.bulk_insert(people, rows[i:i + BATCH])


def downgrade() -> None:
    op.drop_index('ix_finding_people_person_id', table_name='finding_people')
    op.drop_table('finding_people')
