"""worklist indexes: a page of findings in any order, or of one street, without sorting every row

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_findings_work_month', 'findings', ['last_month', 'finding_id'])
    op.create_index('ix_findings_work_street', 'findings',
                    [sa.text('coalesce(assigned_street, street)'), 'last_month', 'finding_id'])
    op.create_index('ix_findings_work_status', 'findings', ['status', 'last_month', 'finding_id'])
    op.create_index('ix_findings_work_due', 'findings', ['due_date', 'finding_id'])
    op.create_index('ix_occurrences_work_amount', 'occurrences', ['amount_fen', 'finding_id'])


def downgrade() -> None:
    for name, table in (('ix_occurrences_work_amount', 'occurrences'), ('ix_findings_work_due', 'findings'),
                        ('ix_findings_work_status', 'findings'), ('ix_findings_work_street', 'findings'),
                        ('ix_findings_work_month', 'findings')):
        op.drop_index(name, table_name=table)
