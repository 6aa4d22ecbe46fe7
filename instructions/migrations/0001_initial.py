"""Meetings, protocols and instructions, adopted from ``requests_app`` as they are.

The tables were created by ``requests_app``'s migrations (0003 and later) and keep
their names (``db_table``); this migration only tells Django's state that the
models now belong to this app, so it changes nothing in the database. On a fresh
database the order is the same: ``requests_app`` creates the tables first (the
dependency below), then this app adopts them, then ``requests_app`` 0006 forgets them.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('directory', '0001_initial'),
        # The tables exist from here on (fresh and existing databases alike).
        ('requests_app', '0005_search_by_audience'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
            migrations.CreateModel(
                name='Meeting',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('kind', models.CharField(choices=[('session', 'Session'), ('commission', 'Commission meeting'), ('hearing', "Hearing of a department's report")], max_length=12, verbose_name='kind')),
                    ('session_kind', models.CharField(blank=True, choices=[('regular', 'Regular'), ('extraordinary', 'Extraordinary')], max_length=16, verbose_name='session kind')),
                    ('date', models.DateField(verbose_name='date')),
                    ('title', models.CharField(max_length=300, verbose_name='title')),
                    ('agenda', models.TextField(blank=True, verbose_name='agenda')),
                    ('location', models.CharField(blank=True, max_length=300, verbose_name='place')),
                    ('is_field_visit', models.BooleanField(default=False, verbose_name='field visit')),
                    ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                    ('commission', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='meetings', to='directory.commission', verbose_name='commission')),
                    ('convocation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='meetings', to='directory.convocation', verbose_name='convocation')),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                    ('department', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='hearings', to='directory.department', verbose_name='heard department')),
                ],
                options={
                    'verbose_name': 'meeting',
                    'verbose_name_plural': 'meetings',
                    'db_table': 'requests_app_meeting',
                    'ordering': ['-date', '-id'],
                },
            ),
            migrations.CreateModel(
                name='Protocol',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('number', models.CharField(max_length=40, verbose_name='number')),
                    ('date', models.DateField(verbose_name='date')),
                    ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                    ('meeting', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='protocols', to='instructions.meeting', verbose_name='meeting')),
                ],
                options={
                    'verbose_name': 'protocol',
                    'verbose_name_plural': 'protocols',
                    'db_table': 'requests_app_protocol',
                    'ordering': ['-date', '-id'],
                },
            ),
            migrations.CreateModel(
                name='ProtocolItem',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('number', models.PositiveSmallIntegerField(verbose_name='item number')),
                    ('title', models.TextField(verbose_name='question')),
                    ('protocol', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='items', to='instructions.protocol', verbose_name='protocol')),
                ],
                options={
                    'verbose_name': 'protocol item',
                    'verbose_name_plural': 'protocol items',
                    'db_table': 'requests_app_protocolitem',
                    'ordering': ['protocol', 'number'],
                },
            ),
            migrations.CreateModel(
                name='Instruction',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('number', models.CharField(max_length=20, verbose_name='number')),
                    ('text', models.TextField(verbose_name='text')),
                    ('due_date', models.DateField(verbose_name='due date')),
                    ('original_due_date', models.DateField(verbose_name='original due date')),
                    ('due_date_basis', models.JSONField(blank=True, default=dict, editable=False)),
                    ('report_period', models.CharField(choices=[('none', 'No periodic reports'), ('monthly', 'Monthly'), ('quarterly', 'Quarterly')], default='none', max_length=10, verbose_name='periodic reports')),
                    ('status', models.CharField(choices=[('on_control', 'On control'), ('reported', 'Reported'), ('executed', 'Executed'), ('returned', 'Returned'), ('removed_from_control', 'Removed from control')], default='on_control', max_length=24, verbose_name='status')),
                    ('reported_at', models.DateTimeField(blank=True, help_text='When the final report that was accepted (or awaits a decision) came in.', null=True, verbose_name='final report submitted at')),
                    ('executed_at', models.DateTimeField(blank=True, null=True, verbose_name='executed at')),
                    ('removed_at', models.DateTimeField(blank=True, null=True, verbose_name='removed from control at')),
                    ('removal_reason', models.TextField(blank=True, verbose_name='reason for removal from control')),
                    ('version', models.PositiveIntegerField(default=1, verbose_name='version')),
                    ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                    ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                    ('co_departments', models.ManyToManyField(blank=True, related_name='co_instructions', to='directory.department', verbose_name='co-executor departments')),
                    ('controller_commission', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='controlled_instructions', to='directory.commission', verbose_name='controlling commission')),
                    ('controller_deputy', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='controlled_instructions', to='directory.deputy', verbose_name='controlling deputy')),
                    ('convocation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='instructions', to='directory.convocation', verbose_name='convocation')),
                    ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                    ('lead_department', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='lead_instructions', to='directory.department', verbose_name='lead department')),
                    ('protocol', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='instructions', to='instructions.protocol', verbose_name='protocol')),
                    ('item', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='instructions', to='instructions.protocolitem', verbose_name='protocol item')),
                ],
                options={
                    'verbose_name': 'protocol instruction',
                    'verbose_name_plural': 'protocol instructions',
                    'db_table': 'requests_app_instruction',
                    'ordering': ['due_date', 'id'],
                },
            ),
            migrations.CreateModel(
                name='ExecutionReport',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('text', models.TextField(verbose_name='text')),
                    ('is_final', models.BooleanField(default=False, verbose_name='final report')),
                    ('status', models.CharField(choices=[('submitted', 'Submitted'), ('accepted', 'Accepted'), ('returned', 'Returned')], default='submitted', max_length=10, verbose_name='status')),
                    ('submitted_at', models.DateTimeField(auto_now_add=True, verbose_name='submitted at')),
                    ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided at')),
                    ('comment', models.TextField(blank=True, verbose_name="controller's comment")),
                    ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                    ('department', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='execution_reports', to='directory.department', verbose_name='department')),
                    ('submitted_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='submitted by')),
                    ('instruction', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reports', to='instructions.instruction', verbose_name='instruction')),
                ],
                options={
                    'verbose_name': 'execution report',
                    'verbose_name_plural': 'execution reports',
                    'db_table': 'requests_app_executionreport',
                    'ordering': ['submitted_at', 'id'],
                    'indexes': [models.Index(fields=['instruction', 'submitted_at'], name='requests_ap_instruc_7c4a97_idx')],
                },
            ),
            migrations.AddIndex(
                model_name='meeting',
                index=models.Index(fields=['date'], name='requests_ap_date_a285c8_idx'),
            ),
            migrations.AddConstraint(
                model_name='meeting',
                constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['session', 'commission', 'hearing'])), name='meeting_kind_valid'),
            ),
            migrations.AddConstraint(
                model_name='meeting',
                constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'commission'), _negated=True), ('commission__isnull', False), _connector='OR'), name='meeting_commission_has_commission'),
            ),
            migrations.AddConstraint(
                model_name='protocol',
                constraint=models.UniqueConstraint(fields=('meeting', 'number'), name='protocol_number_per_meeting'),
            ),
            migrations.AddConstraint(
                model_name='protocolitem',
                constraint=models.UniqueConstraint(fields=('protocol', 'number'), name='protocol_item_number_unique'),
            ),
            migrations.AddIndex(
                model_name='instruction',
                index=models.Index(fields=['status', 'due_date'], name='requests_ap_status_c743e8_idx'),
            ),
            migrations.AddIndex(
                model_name='instruction',
                index=models.Index(fields=['lead_department', 'status'], name='requests_ap_lead_de_c18805_idx'),
            ),
            migrations.AddConstraint(
                model_name='instruction',
                constraint=models.CheckConstraint(condition=models.Q(('status__in', ['on_control', 'reported', 'executed', 'returned', 'removed_from_control'])), name='instruction_status_valid'),
            ),
            migrations.AddConstraint(
                model_name='instruction',
                constraint=models.CheckConstraint(condition=models.Q(('report_period__in', ['none', 'monthly', 'quarterly'])), name='instruction_report_period_valid'),
            ),
            migrations.AddConstraint(
                model_name='instruction',
                constraint=models.CheckConstraint(condition=models.Q(('controller_commission__isnull', False), ('controller_deputy__isnull', False), _connector='OR'), name='instruction_has_controller'),
            ),
            migrations.AddConstraint(
                model_name='instruction',
                constraint=models.UniqueConstraint(fields=('protocol', 'number'), name='instruction_number_per_protocol'),
            ),
            ],
        ),
    ]
