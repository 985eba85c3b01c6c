/**
 * MQTT 5 properties between the codec's object form and the list form stored in mosquitto.db
 * (`@skeeter/persistence` keeps them as Mosquitto's property list: id, number or bytes).
 */
import { PROPERTY_BY_ID, PROPERTY_BY_NAME, PropertyType, type Properties } from '@skeeter/codec';
import type { Property } from '@skeeter/persistence';

export function toDbProperties(props: Properties | undefined, extra?: Property[]): Property[] | null {
  const out: Property[] = extra ? [...extra] : [];
  if (props) {
    for (const key in props) {
      const value = (props as Record<string, unknown>)[key];
      if (value === undefined) continue;
      const d = PROPERTY_BY_NAME[key];
      if (!d) continue;
      switch (d.type) {
        case PropertyType.Byte:
        case PropertyType.TwoByteInteger:
        case PropertyType.FourByteInteger:
          out.push({ identifier: d.id, value: value as number });
          break;
        case PropertyType.VariableByteInteger:
          for (const v of value as number[]) out.push({ identifier: d.id, value: v });
          break;
        case PropertyType.Utf8String:
          out.push({ identifier: d.id, value: Buffer.from(value as string, 'utf8') });
          break;
        case PropertyType.BinaryData:
          out.push({ identifier: d.id, value: Buffer.from(value as Uint8Array) });
          break;
        case PropertyType.Utf8StringPair:
          for (const [k, v] of value as Array<[string, string]>) {
            out.push({ identifier: d.id, name: Buffer.from(k, 'utf8'), value: Buffer.from(v, 'utf8') });
          }
          break;
      }
    }
  }
  return out.length > 0 ? out : null;
}

export function fromDbProperties(list: readonly Property[] | null): Properties | undefined {
  if (!list || list.length === 0) return undefined;
  const props: Properties = {};
  const bag = props as Record<string, unknown>;
  for (const p of list) {
    const d = PROPERTY_BY_ID[p.identifier];
    if (!d) continue;
    switch (d.type) {
      case PropertyType.Byte:
      case PropertyType.TwoByteInteger:
      case PropertyType.FourByteInteger:
        bag[d.name] = p.value as number;
        break;
      case PropertyType.VariableByteInteger:
        (props.subscriptionIdentifiers ??= []).push(p.value as number);
        break;
      case PropertyType.Utf8String:
        bag[d.name] = (p.value as Buffer).toString('utf8');
        break;
      case PropertyType.BinaryData:
        bag[d.name] = Buffer.from(p.value as Buffer);
        break;
      case PropertyType.Utf8StringPair:
        (props.userProperties ??= []).push([('name' in p && p.name ? p.name : Buffer.alloc(0)).toString('utf8'), (p.value as Buffer).toString('utf8')]);
        break;
    }
  }
  return props;
}
