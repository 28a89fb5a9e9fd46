import { Anchor, Badge, Button, Group, Pagination, Paper, Select, Table, Text } from '@mantine/core';
import { DatePickerInput, type DatesRangeValue } from '@mantine/dates';
import '@mantine/dates/styles.css';
import { useQuery } from '@tanstack/react-query';
import { IconDownload, IconListDetails } from '@tabler/icons-react';
import { useEffect, useId, useRef, useState } from 'react';
import { CardTable } from '../../components/CardTable';
import { PageHeader } from '../../components/PageHeader';
import { RelativeTime } from '../../components/RelativeTime';
import { Empty, ErrorState, NotAllowed, TableSkeleton } from '../../components/states';
import { withQuery } from '../../lib/api';
import { allMembersQuery } from '../members/api';
import { plural } from '../../lib/format';
import { Link } from '../../lib/router';
import { permissions, useSession } from '../../lib/session';
import { AUDIT_PAGE_SIZE as PAGE_SIZE, auditQuery } from './api';
import type { AuditEntry } from '../../lib/types';
import { EVENT_LABELS, SEVERITY_COLOR, eventLabel } from './audit-events';
import { auditResource } from './audit-resource';
import { detailsSummary } from './audit-details';

const EVENT_TYPES = Object.entries(EVENT_LABELS).map(([value, label]) => ({ value, label }));

const CALENDAR_LABELS = {
  previousMonth: 'Previous month',
  nextMonth: 'Next month',
  previousYear: 'Previous year',
  nextYear: 'Next year',
  previousDecade: 'Previous decade',
  nextDecade: 'Next decade',
  monthLevelControl: 'Choose another month',
  yearLevelControl: 'Choose another year',
};

/**
 * An entry's details, two lines of them; when there is more, a button shows the rest (and hides
 * it again), so the keyboard and a finger reach them as a pointer does.
 */
function DetailsSummary({ details }: { details: Record<string, unknown> }) {
  const text = detailsSummary(details);
  const id = useId();
  const ref = useRef<HTMLParagraphElement>(null);
  const [expanded, setExpanded] = useState(false);
  const [clipped, setClipped] = useState(false);
  // Whether two lines hide some of it depends on the column's width: measured, and again when it changes.
  useEffect(() => {
    const element = ref.current;
    if (!element || expanded) return;
    const measure = () => setClipped(element.scrollHeight > element.clientHeight + 1);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [expanded]);
  if (!text) {
    return (
      <Text size="sm" c="dimmed">
        —
      </Text>
    );
  }
  return (
    <>
      <Text ref={ref} id={id} size="sm" lineClamp={expanded ? undefined : 2}>
        {text}
      </Text>
      {(clipped || expanded) && (
        <Anchor component="button" type="button" size="xs" aria-expanded={expanded} aria-controls={id} onClick={() => setExpanded(!expanded)}>
          {expanded ? 'Show less' : 'Show all details'}
        </Anchor>
      )}
    </>
  );
}

/** The resource by name: a link to its page, "(deleted)" when the entry says it is gone. */
function ResourceCell({ entry }: { entry: AuditEntry }) {
  const resource = auditResource(entry);
  return (
    <Text size="sm" component="div">
      <Text span size="xs" c="dimmed" mr={4}>
        {resource.kind}
      </Text>
      {resource.href ? (
        <Anchor component={Link} href={resource.href} size="sm" underline="hover">
          {resource.name}
        </Anchor>
      ) : (
        <Text span size="sm">
          {resource.name}
        </Text>
      )}
      {resource.gone && (
        <Text span size="xs" c="dimmed" ml={4}>
          (deleted)
        </Text>
      )}
    </Text>
  );
}

export default function AuditPage() {
  const me = useSession();
  const allowed = permissions.viewAudit(me);
  const [range, setRange] = useState<DatesRangeValue<string>>([null, null]);
  const [userId, setUserId] = useState<string | null>(null);
  const [eventType, setEventType] = useState<string | null>(null);
  const [page, setPage] = useState(1);
  const filters = { from: range[0] ?? undefined, to: range[1] ?? range[0] ?? undefined, userId: userId ?? undefined, eventType: eventType ?? undefined };
  const audit = useQuery({ ...auditQuery(filters, page), enabled: allowed.ok });
  const members = useQuery({ ...allMembersQuery, enabled: allowed.ok && me.user.role === 'admin' });
  const filtered = Boolean(filters.from || filters.userId || filters.eventType);
  const total = audit.data?.total ?? 0;
  const reset = (fn: () => void) => {
    fn();
    setPage(1);
  };

  if (!allowed.ok) {
    return (
      <>
        <PageHeader title="Audit Logs" description="Who did what, and when." />
        <NotAllowed reason={allowed.reason} />
      </>
    );
  }
  return (
    <>
      <PageHeader
        title="Audit Logs"
        description={
          me.user.role === 'admin'
            ? 'Every sign-in and every change to keys, people and the subscription, newest first. Times are in your time zone; hover for UTC.'
            : 'Your own actions, newest first. Admins see everyone’s.'
        }
        actions={
          <Button component="a" href={withQuery('/api/audit/export.csv', filters)} download variant="default" leftSection={<IconDownload size={16} />}>
            Export CSV
          </Button>
        }
      />
      <Paper withBorder radius="md" p={{ base: 'sm', sm: 'md' }}>
        <Group gap="sm" mb="md" align="flex-end" wrap="wrap">
          <DatePickerInput
            type="range"
            label="Date range"
            placeholder="Any date"
            value={range}
            onChange={(value) => reset(() => setRange(value))}
            clearable
            allowSingleDateInRange
            valueFormat="D MMM YYYY"
            maxDate={new Date()}
            // Its arrows and its clear button are icons: they need names. Days of the next and
            // previous months would be drawn in a grey too faint to read, so they are left out.
            ariaLabels={CALENDAR_LABELS}
            clearButtonProps={{ 'aria-label': 'Clear the date range' }}
            hideOutsideDates
            style={{ flex: '1 1 220px' }}
          />
          {me.user.role === 'admin' && (
            <Select
              label="User"
              placeholder="Anyone"
              data={(members.data?.items ?? []).map((m) => ({ value: m.id, label: `${m.name} (${m.email})` }))}
              value={userId}
              onChange={(v) => reset(() => setUserId(v))}
              clearable
              searchable
              style={{ flex: '1 1 200px' }}
            />
          )}
          <Select
            label="Event type"
            placeholder="Any event"
            data={EVENT_TYPES}
            value={eventType}
            onChange={(v) => reset(() => setEventType(v))}
            clearable
            searchable
            style={{ flex: '1 1 200px' }}
          />
        </Group>
        {audit.isError && <ErrorState error={audit.error} onRetry={() => void audit.refetch()} />}
        {audit.data?.items.length === 0 ? (
          <Empty
            icon={<IconListDetails size={28} />}
            title={filtered ? 'No events match these filters' : 'No events yet'}
            description={filtered ? 'Widen the date range or clear the filters.' : 'Sign-ins and changes appear here as they happen.'}
          />
        ) : (
          <CardTable
            verticalSpacing="xs"
            aria-label="Audit log"
            striped
            className="audit-log"
            // Fixed columns: long emails and key names wrap inside theirs instead of widening the log past 1,280 px.
            style={{ opacity: audit.isPlaceholderData ? 0.6 : 1, tableLayout: 'fixed', overflowWrap: 'anywhere' }}
          >
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={140}>Time</Table.Th>
                <Table.Th w={180}>Event</Table.Th>
                <Table.Th w="24%">User and IP</Table.Th>
                <Table.Th w="26%">Resource</Table.Th>
                <Table.Th>Details</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {audit.isPending && <TableSkeleton columns={5} />}
              {audit.data?.items.map((entry) => (
                <Table.Tr key={entry.id}>
                  <Table.Td data-label="Time">
                    <RelativeTime iso={entry.timestamp} />
                  </Table.Td>
                  {/* In a card, the event comes first and takes the card's width. */}
                  <Table.Td className="card-table-lead">
                    <Badge
                      variant="light"
                      color={SEVERITY_COLOR[entry.severity]}
                      size="sm"
                      style={{ textTransform: 'none', minWidth: 'max-content', overflow: 'visible' }}
                    >
                      {eventLabel(entry.eventType)}
                    </Badge>
                  </Table.Td>
                  <Table.Td data-label="User and IP" className="card-table-wrap">
                    <Text size="sm">{entry.userEmail ?? 'Operator'}</Text>
                    {entry.ip && (
                      <Text size="xs" c="dimmed" className="mono">
                        {entry.ip}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td data-label="Resource" className="card-table-wrap card-table-wide">
                    <ResourceCell entry={entry} />
                  </Table.Td>
                  <Table.Td data-label="Details" className="card-table-wrap card-table-wide">
                    <DetailsSummary details={entry.details} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </CardTable>
        )}
        {total > 0 && (
          <Group justify="space-between" mt="md">
            <Text size="sm" c="dimmed">
              {plural(total, 'event')}
            </Text>
            {total > PAGE_SIZE && (
              <Pagination
                total={Math.ceil(total / PAGE_SIZE)}
                value={page}
                onChange={setPage}
                size="sm"
                getControlProps={(control) => ({ 'aria-label': `${control} page` })}
              />
            )}
          </Group>
        )}
      </Paper>
    </>
  );
}
