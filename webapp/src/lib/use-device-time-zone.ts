import { useEffect, useRef } from 'react';
import { deviceTimeZone, isValidTimeZone } from './time';
import type { Me } from '../types/api';
import { useUpdateMe } from './me';

/** On first open, the user's time zone becomes the device's; later it is theirs to edit. */
export function useDeviceTimeZone(me: Me | undefined): void {
  const update = useUpdateMe();
  const tried = useRef(false);
  useEffect(() => {
    if (!me || me.timezone_set || tried.current) return;
    tried.current = true;
    const zone = deviceTimeZone();
    if (isValidTimeZone(zone) && zone !== me.timezone) update.mutate({ timezone: zone });
  }, [me, update]);
}
