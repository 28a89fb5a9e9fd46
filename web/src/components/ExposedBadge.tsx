import { Anchor, Badge, Tooltip } from '@mantine/core';
import type { ApiKey } from '../lib/types';

/** Shown on a key a secret scanner found in public; names where it was found. */
export function ExposedBadge({ apiKey, size = 'sm' }: { apiKey: Pick<ApiKey, 'exposedAt' | 'exposedUrl'>; size?: 'xs' | 'sm' | 'md' }) {
  if (!apiKey.exposedAt) return null;
  return (
    <Tooltip label={apiKey.exposedUrl ? `Found in public at ${apiKey.exposedUrl}` : 'Found in public'} multiline maw={360}>
      <Badge color="red" variant="filled" size={size} style={{ whiteSpace: 'nowrap', minWidth: 'max-content' }}>
        Exposed
      </Badge>
    </Tooltip>
  );
}

/** Where an exposed key was found, as a link that leaves the portal without telling the page where it came from. */
export function ExposedWhere({ url }: { url: string | null }) {
  if (!url) return <>an unknown place</>;
  const safe = /^https?:\/\//i.test(url);
  return safe ? (
    <Anchor href={url} target="_blank" rel="noopener noreferrer nofollow" style={{ wordBreak: 'break-all' }}>
      {url}
    </Anchor>
  ) : (
    <span className="mono" style={{ wordBreak: 'break-all' }}>
      {url}
    </span>
  );
}
