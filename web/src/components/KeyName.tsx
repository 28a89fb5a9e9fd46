/**
 * A key's name with its last four characters: a rotation's old and new key share a name, so a
 * link to either says which one it is ("prod-orders-flow-sales …a1b2").
 */
export function KeyName({ name, last4 }: { name: string; last4: string }) {
  return (
    <>
      {name} <span className="mono">…{last4}</span>
    </>
  );
}
