"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 05:53:23.811099
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clients',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('rejected_events',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('stream', sa.String(length=200), nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('claimed_client_id', sa.String(length=200), nullable=True),
    sa.Column('event_id', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raw_payload', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stream', 'entry_id', name='uq_rejected_events_entry')
    )
    op.create_table('agent_configs',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'version', name='uq_agent_configs_client_version')
    )
    op.create_index('uq_agent_configs_one_active', 'agent_configs', ['client_id'], unique=True, postgresql_where=sa.text('active'))
    op.create_table('leads',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('lead_key', sa.String(length=200), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'lead_key', name='uq_leads_client_key')
    )
    op.create_table('llm_calls',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('inbound_message_id', sa.String(length=26), nullable=True),
    sa.Column('config_id', sa.String(length=26), nullable=True),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('prompt_tokens', sa.Integer(), nullable=False),
    sa.Column('completion_tokens', sa.Integer(), nullable=False),
    sa.Column('cost_usd', sa.Float(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_llm_calls_client_created', 'llm_calls', ['client_id', 'created_at'], unique=False)
    op.create_table('conversations',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('lead_id', sa.String(length=26), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'external_id', name='uq_conversations_client_external')
    )
    op.create_table('inbound_messages',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('lead_id', sa.String(length=26), nullable=True),
    sa.Column('conversation_id', sa.String(length=26), nullable=True),
    sa.Column('external_conversation_id', sa.String(length=200), nullable=True),
    sa.Column('external_lead_id', sa.String(length=200), nullable=True),
    sa.Column('lead_name', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('new_text', sa.Text(), nullable=False),
    sa.Column('subject', sa.String(length=1000), nullable=True),
    sa.Column('message_id', sa.String(length=1000), nullable=True),
    sa.Column('in_reply_to', sa.String(length=1000), nullable=True),
    sa.Column('topic', sa.String(length=200), nullable=True),
    sa.Column('model_override', sa.String(length=200), nullable=True),
    sa.Column('metadata', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failure_kind', sa.String(length=16), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'event_id', name='uq_inbound_messages_client_event')
    )
    op.create_index('ix_inbound_messages_client_lead', 'inbound_messages', ['client_id', 'lead_id', 'received_at'], unique=False)
    op.create_index('ix_inbound_messages_status_due', 'inbound_messages', ['status', 'next_attempt_at'], unique=False)
    op.create_table('drafts',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('inbound_message_id', sa.String(length=26), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('conversation_id', sa.String(length=200), nullable=True),
    sa.Column('lead_id', sa.String(length=200), nullable=True),
    sa.Column('reply', sa.Text(), nullable=False),
    sa.Column('quick_replies', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('config_id', sa.String(length=26), nullable=True),
    sa.Column('config_version', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=True),
    sa.Column('degraded', sa.Boolean(), nullable=False),
    sa.Column('memory_refs', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('prompt_tokens', sa.Integer(), nullable=False),
    sa.Column('completion_tokens', sa.Integer(), nullable=False),
    sa.Column('cost_usd', sa.Float(), nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=1000), nullable=True),
    sa.Column('in_reply_to', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['inbound_message_id'], ['inbound_messages.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('inbound_message_id', name='uq_drafts_inbound_message')
    )
    op.create_index('ix_drafts_client_status', 'drafts', ['client_id', 'status', 'created_at'], unique=False)
    op.create_table('outbox',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('draft_id', sa.String(length=26), nullable=False),
    sa.Column('stream', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('draft_id', name='uq_outbox_draft')
    )
    op.create_index('ix_outbox_unpublished', 'outbox', ['created_at'], unique=False, postgresql_where=sa.text('published_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_outbox_unpublished', table_name='outbox')
    op.drop_table('outbox')
    op.drop_index('ix_drafts_client_status', table_name='drafts')
    op.drop_table('drafts')
    op.drop_index('ix_inbound_messages_status_due', table_name='inbound_messages')
    op.drop_index('ix_inbound_messages_client_lead', table_name='inbound_messages')
    op.drop_table('inbound_messages')
    op.drop_table('conversations')
    op.drop_index('ix_llm_calls_client_created', table_name='llm_calls')
    op.drop_table('llm_calls')
    op.drop_table('leads')
    op.drop_index('uq_agent_configs_one_active', table_name='agent_configs', postgresql_where=sa.text('active'))
    op.drop_table('agent_configs')
    op.drop_table('rejected_events')
    op.drop_table('clients')
