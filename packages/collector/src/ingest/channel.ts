// The authoritative channel: the tracker's full GA4 classifier, shared so browser and server agree.
export { classifyChannel } from '@closeloop/tracker/channel'
