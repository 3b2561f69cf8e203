#!/usr/bin/env node
// An independent SMSC for the osmo-uigw SMPP tests, built on node-smpp (npm smpp@0.5.1).
//   node smsc.js PORT [SYSTEM_ID PASSWORD]
// Listens on 127.0.0.1:PORT, accepts binds with that system_id/password (default uigw/uigw), answers
// submit_sm with a message_id, enquire_link and unbind. Every PDU in either direction is printed on stdout as one
// JSON line {"dir":"rx"|"tx", "command":..., ...} (Buffers as hex; short_message as {udh, hex, text}).
// Commands, one JSON object per line on stdin:
//   {"cmd":"deliver", "pdu":{...deliver_sm fields; {"hex":".."} values become Buffers...}}
//   {"cmd":"throttle", "n":N, "status":88}   answer the next N submit_sm with that status (default THROTTLED)
//   {"cmd":"drop"}                            close every session's socket
//   {"cmd":"raw", "hex":".."}                 write raw octets to every session
//   {"cmd":"hold", "on":true|false}          leave every submit_sm unanswered (not accepted) while on
//   {"cmd":"drop_after", "n":N}               accept N more submit_sm, then answer no more, flush the
//                                             responses already written and close every session
//   {"cmd":"refuse", "on":true|false}         answer bind_transceiver with ESME_RBINDFAIL while on
//   {"cmd":"throttle_ms", "ms":M}             answer every submit_sm with THROTTLED for M ms
//   {"cmd":"quit"}
// Each submit_sm answered with ESME_ROK is also printed as {"event":"accepted", "dst":..., "text":...}: what the
// SMSC took over (a submit it did not answer is not delivered).
'use strict';
const smpp = require('smpp');
const readline = require('readline');

// a vendor TLV in which this SMSC tells where the sender is (its VLR number), as some SMSCs do (0x1501)
smpp.addTLV('vendor_location', { id: 0x1501, type: smpp.types.tlv.cstring });

const port = parseInt(process.argv[2] || '2775', 10);
const sysId = process.argv[3] || 'uigw';
const password = process.argv[4] || 'uigw';
const sessions = new Set();
let throttle = 0;
let throttleStatus = 0x58;
let msgId = 0;
let hold = false;
let dropAfter = -1;
let refuse = false;
let throttleUntil = 0;

function jsonable(v) {
	if (Buffer.isBuffer(v))
		return v.toString('hex');
	if (Array.isArray(v))
		return v.map(jsonable);
	if (v && typeof v === 'object') {
		const o = {};
		for (const k of Object.keys(v))
			o[k] = jsonable(v[k]);
		return o;
	}
	return v;
}

function log(dir, pdu) {
	const o = { dir: dir, command: pdu.command, command_status: pdu.command_status,
		sequence_number: pdu.sequence_number };
	for (const k of Object.keys(pdu)) {
		if (k in o || k === 'command_length' || k === 'command_id' || typeof pdu[k] === 'function')
			continue;
		o[k] = jsonable(pdu[k]);
	}
	// short_message: decoded by node-smpp into {udh, message}; give the raw octets too
	if (pdu.short_message && pdu.short_message.message !== undefined) {
		const m = pdu.short_message.message;
		o.short_message = {
			udh: pdu.short_message.udh ? pdu.short_message.udh.map((u) => u.toString('hex')) : [],
			text: typeof m === 'string' ? m : undefined,
		};
	}
	if (pdu.message_payload !== undefined && pdu.message_payload.message !== undefined)
		o.message_payload = { text: pdu.message_payload.message };
	process.stdout.write(JSON.stringify(o) + '\n');
}

function hexify(v) {
	if (v && typeof v === 'object' && typeof v.hex === 'string')
		return Buffer.from(v.hex, 'hex');
	if (v && typeof v === 'object' && !Array.isArray(v)) {
		const o = {};
		for (const k of Object.keys(v))
			o[k] = hexify(v[k]);
		return o;
	}
	return v;
}

const server = smpp.createServer({}, function (session) {
	sessions.add(session);
	session.on('pdu', (pdu) => log('rx', pdu));
	session.on('send', (pdu) => log('tx', pdu));
	session.on('bind_transceiver', function (pdu) {
		if (refuse || pdu.system_id !== sysId || pdu.password !== password) {
			session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
			return;
		}
		session.send(pdu.response({ system_id: 'node-smsc' }));
	});
	session.on('submit_sm', function (pdu) {
		if (hold || dropAfter === 0)
			return;
		if (throttle > 0 || Date.now() < throttleUntil) {
			if (throttle > 0)
				throttle--;
			session.send(pdu.response({ command_status: throttleStatus }));
			return;
		}
		session.send(pdu.response({ message_id: 'm' + (++msgId) }));
		const sm = pdu.short_message || {};
		const mp = pdu.message_payload || {};
		process.stdout.write(JSON.stringify({ event: 'accepted', dst: pdu.destination_addr, id: 'm' + msgId,
			registered_delivery: pdu.registered_delivery,
			service_type: pdu.service_type,
			text: typeof sm.message === 'string' ? sm.message : (typeof mp.message === 'string' ? mp.message : '') })
			+ '\n');
		if (dropAfter > 0 && --dropAfter === 0) {
			// the responses written so far reach the ESME (end() flushes), the rest stays unanswered
			for (const s of sessions)
				s.socket.end();
			setTimeout(function () {
				for (const s of sessions)
					s.socket.destroy();
				dropAfter = -1;
			}, 300);
		}
	});
	session.on('enquire_link', (pdu) => session.send(pdu.response()));
	session.on('unbind', function (pdu) {
		session.send(pdu.response());
		session.close();
	});
	session.on('error', (e) => process.stdout.write(JSON.stringify({ event: 'error', error: String(e) }) + '\n'));
	session.on('close', function () {
		sessions.delete(session);
		process.stdout.write(JSON.stringify({ event: 'close' }) + '\n');
	});
	process.stdout.write(JSON.stringify({ event: 'connect' }) + '\n');
});

server.listen(port, '127.0.0.1', function () {
	process.stdout.write(JSON.stringify({ event: 'listening', port: port }) + '\n');
});

readline.createInterface({ input: process.stdin }).on('line', function (line) {
	if (!line.trim())
		return;
	const c = JSON.parse(line);
	switch (c.cmd) {
	case 'deliver':
		for (const s of sessions)
			s.deliver_sm(hexify(c.pdu));
		break;
	case 'throttle':
		throttle = c.n;
		throttleStatus = c.status || 0x58;
		break;
	case 'drop':
		for (const s of sessions)
			s.socket.destroy();
		break;
	case 'hold':
		hold = !!c.on;
		break;
	case 'drop_after':
		dropAfter = c.n;
		break;
	case 'refuse':
		refuse = !!c.on;
		break;
	case 'throttle_ms':
		throttleUntil = Date.now() + c.ms;
		throttleStatus = c.status || 0x58;
		break;
	case 'raw':
		for (const s of sessions)
			s.socket.write(Buffer.from(c.hex, 'hex'));
		break;
	case 'quit':
		process.exit(0);
	}
}).on('close', () => process.exit(0));
