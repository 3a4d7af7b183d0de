/** The loopback DNS server of the discovery suites; it lives with the fixtures the demo shares. */
export { Dnsmasq } from '../../scripts/support/dnsmasq';
