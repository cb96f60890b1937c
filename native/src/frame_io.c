/*
 * Raw frame I/O on one NIC (the NativeFramePort class).
 *
 *  - AF_PACKET SOCK_RAW bound to one ifindex with ETH_P_ALL, promiscuous (PACKET_MR_PROMISC, dropped by the kernel
 *    when the socket closes), PACKET_QDISC_BYPASS, PACKET_IGNORE_OUTGOING, and SO_MARK when option mark is set.
 *  - Receive: TPACKET_V2 ring (mmap) by default, one ring frame per packet, so a frame is readable as soon as the
 *    kernel wrote it. A TPACKET_V3 ring (option rxRing 'v3') packs packets one after the other into blocks and hands
 *    a block over only when it is full or its retire timer (1 ms, the least; kernels without the hrtimer retire timer
 *    round it up to a scheduler tick, 4 ms at HZ=250) fires: ~1 ms per hop at low rates
 *    (Documentation/networking/packet_mmap.rst, "TPACKET_V3"). Both feed the same per-frame copy.
 *    receive() copies frames into the caller's slot buffer at slot * slotSize + headroom without a syscall; the
 *    kernel's copy into the ring runs in softirq. (Measured on a veth: recvmmsg straight into the slots cost
 *    1.4-1.8 us per frame in the receiving thread, this ring 0.1-0.4 us.) Frames that do not fit the slot (or that
 *    the ring truncated) are dropped and counted. A VLAN tag the kernel moved into metadata is put back into the
 *    frame, so frames leave us as they arrived.
 *  - Large receive offload: GRO and LRO are turned off on open (ethtool ioctl); whatever still arrives bigger
 *    than a slot is dropped and counted as rx truncated.
 *  - Transmit: sendmmsg with iovecs pointing straight into the caller's buffer, one syscall per 256 frames.
 *  - Event loop: uv_poll on the socket calls the JS readable callback (or, with busyPoll, a uv_idle handle calls it
 *    on every loop turn while the ring holds frames); a NETLINK_ROUTE socket (RTMGRP_LINK) on uv_poll tracks link
 *    state.
 *  - The sockets can be created inside a named network namespace (setns on this thread, then straight back).
 */
#define _GNU_SOURCE
#include "napi_args.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <uv.h>

/* Error codes seen by JS as error.code (mirrored by FramePortErrorCode in src/io/frame-port-error.ts). */
#define E_INTERFACE_NOT_FOUND "INTERFACE_NOT_FOUND"
#define E_NETNS_NOT_FOUND "NETNS_NOT_FOUND"
#define E_PERMISSION_DENIED "PERMISSION_DENIED"
#define E_INVALID_ARGUMENT "INVALID_ARGUMENT"
#define E_PORT_CLOSED "PORT_CLOSED"
#define E_SYSTEM_ERROR "SYSTEM_ERROR"

enum {
  TX_CHUNK = 256,               /* frames per sendmmsg call */
  NL_BUFFER_BYTES = 16384,      /* one netlink datagram */
  NL_READS_PER_WAKEUP = 64,     /* bound on netlink reads per poll callback */
  SEND_BUFFER_BYTES = 4 << 20,  /* room for several full batches in flight to the driver */
  VLAN_TAG_BYTES = 4,
  MAC_ADDRESSES_BYTES = 12,
  V3_FRAMES_PER_BLOCK = 8,      /* ring frames' worth of memory per TPACKET_V3 block */
  V3_RETIRE_MS = 1,             /* TPACKET_V3 block retire timer: the least the kernel takes (0 lets it choose) */
};

enum { HANDLE_RX_POLL = 1, HANDLE_RX_IDLE = 2, HANDLE_LINK_POLL = 4 };

/* Order of the values written by counters() (mirrored in src/io/native-frame-io.ts). */
typedef struct {
  uint64_t rx_frames, rx_bytes, rx_kernel_drops, rx_truncated;
  uint64_t tx_frames, tx_bytes, tx_errors;
  uint64_t link_ups, link_downs;
} port_counters;
#define COUNTER_COUNT (sizeof(port_counters) / sizeof(uint64_t))

typedef struct {
  napi_env env;
  int fd;                       /* AF_PACKET socket */
  int nl_fd;                    /* NETLINK_ROUTE socket, RTMGRP_LINK */
  int ifindex;
  char ifname[IFNAMSIZ];
  uint8_t *ring;                /* receive ring */
  size_t ring_bytes;
  int ring_version;             /* TPACKET_V2 or TPACKET_V3 */
  uint32_t frame_bytes, frame_count;
  uint32_t next_frame;          /* V2: ring frame receive() reads next */
  uint32_t block_bytes, block_count;
  uint32_t next_block;          /* V3: block receive() reads (or goes on reading) next */
  uint32_t block_left;          /* V3: packets of next_block not read yet; 0 while no block is open */
  const uint8_t *block_packet;  /* V3: the next of them */
  bool link_up;
  bool busy_poll;
  bool closed;
  bool finalized;
  unsigned open_handles;        /* HANDLE_* bits of initialised libuv handles */
  int pending_closes;           /* uv_close callbacks still to come */
  port_counters counters;
  uv_poll_t rx_poll;
  uv_idle_t rx_idle;
  uv_poll_t link_poll;
  napi_ref on_readable;
  napi_ref on_link;
  napi_async_context async_context;
  napi_async_cleanup_hook_handle cleanup_hook;
  struct mmsghdr msgs[TX_CHUNK];
  struct iovec iov[TX_CHUNK];
  uint8_t nl_buffer[NL_BUFFER_BYTES] __attribute__((aligned(8)));
} port;

static bool is_permission_error(int e) { return e == EPERM || e == EACCES; }

/* ---------- arguments ---------- */

/* options[key], an integer from min to UINT32_MAX. */
static bool get_option_uint32(napi_env env, napi_value options, const char *key, int64_t min, uint32_t *out) {
  napi_value v;
  int64_t value;
  char what[32];
  if (napi_get_named_property(env, options, key, &v) != napi_ok) {
    throw_failed_call(env, E_SYSTEM_ERROR, "napi_get_named_property");
    return false;
  }
  snprintf(what, sizeof what, "option %s", key);
  if (!get_integer(env, v, E_INVALID_ARGUMENT, what, min, UINT32_MAX, &value)) return false;
  *out = (uint32_t)value;
  return true;
}

/* ---------- JS callbacks from libuv ---------- */

/* Calls a stored JS callback from a libuv callback; arg < 0 passes no argument, else a boolean. */
static void call_js(port *p, napi_ref ref, int arg) {
  napi_env env = p->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[1], result;
  size_t argc = 0;
  if (napi_get_reference_value(env, ref, &cb) == napi_ok && cb != NULL && napi_get_global(env, &recv) == napi_ok) {
    if (arg >= 0 && napi_get_boolean(env, arg != 0, &argv[0]) == napi_ok) argc = 1;
    if (napi_make_callback(env, p->async_context, recv, cb, argc, argv, &result) == napi_pending_exception) {
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* Replaces a stored callback with cb (a function) or clears it (null/undefined). */
static bool set_callback(napi_env env, napi_value cb, napi_ref *slot) {
  napi_valuetype t;
  if (napi_typeof(env, cb, &t) != napi_ok) return false;
  if (t != napi_function && t != napi_null && t != napi_undefined) {
    throw_error(env, E_INVALID_ARGUMENT, "callback must be a function or null");
    return false;
  }
  if (*slot != NULL) {
    napi_delete_reference(env, *slot);
    *slot = NULL;
  }
  if (t == napi_function && napi_create_reference(env, cb, 1, slot) != napi_ok) return false;
  return true;
}

/* Reading SO_ERROR clears a pending socket error (ENETDOWN on link loss, ENOBUFS on netlink overrun). libuv stops a
   poll handle that sees POLLERR, so the poll callbacks clear the error and restart. */
static void clear_socket_error(int fd) {
  int e;
  socklen_t len = sizeof e;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len);
}

/* ---------- network namespace ---------- */

/* Enters the named namespace (name under /var/run/netns, or an absolute path); *saved = -1 when netns is empty. */
static bool enter_netns(napi_env env, const char *netns, int *saved) {
  *saved = -1;
  if (netns[0] == '\0') return true;
  char path[PATH_MAX];
  snprintf(path, sizeof path, netns[0] == '/' ? "%s" : "/var/run/netns/%s", netns);
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    throw_error(env, E_NETNS_NOT_FOUND, "network namespace '%s' not found (%s): create it with 'ip netns add' or pass "
                "a /proc/PID/ns/net path", netns, path);
    return false;
  }
  *saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (*saved < 0 || setns(target, CLONE_NEWNET) < 0) {
    int e = errno;
    close(target);
    if (*saved >= 0) close(*saved);
    *saved = -1;
    if (is_permission_error(e)) {
      throw_error(env, E_PERMISSION_DENIED, "entering network namespace '%s' needs CAP_SYS_ADMIN: run as root", netns);
    } else {
      throw_error(env, E_SYSTEM_ERROR, "cannot enter network namespace '%s': %s", netns, strerror(e));
    }
    return false;
  }
  close(target);
  return true;
}

static void leave_netns(int saved) {
  if (saved < 0) return;
  if (setns(saved, CLONE_NEWNET) < 0) {
    napi_fatal_error("frame_io", NAPI_AUTO_LENGTH, "cannot return to the original network namespace", NAPI_AUTO_LENGTH);
  }
  close(saved);
}

/* ---------- link state ---------- */

static bool ifreq_by_index(const port *p, struct ifreq *ifr) {
  memset(ifr, 0, sizeof *ifr);
  ifr->ifr_ifindex = p->ifindex;
  return ioctl(p->fd, SIOCGIFNAME, ifr) == 0;
}

/* Link is up when the interface is administratively up and operationally running (carrier). */
static bool flags_link_up(unsigned flags) { return (flags & IFF_UP) && (flags & IFF_RUNNING); }

static void link_update(port *p, unsigned flags) {
  bool up = flags_link_up(flags);
  if (up == p->link_up) return;
  p->link_up = up;
  if (up) p->counters.link_ups++;
  else p->counters.link_downs++;
  if (p->on_link != NULL) call_js(p, p->on_link, up);
}

/* Re-reads the flags after netlink lost messages (ENOBUFS). */
static void link_resync(port *p) {
  struct ifreq ifr;
  unsigned flags = 0;
  if (ifreq_by_index(p, &ifr) && ioctl(p->fd, SIOCGIFFLAGS, &ifr) == 0) flags = (unsigned short)ifr.ifr_flags;
  link_update(p, flags);
}

static void on_link_poll(uv_poll_t *handle, int status, int events) {
  port *p = handle->data;
  if (status < 0) {
    clear_socket_error(p->nl_fd);
    uv_poll_start(handle, UV_READABLE, on_link_poll);
    link_resync(p);
  }
  for (int i = 0; i < NL_READS_PER_WAKEUP && !p->closed; i++) {
    ssize_t n = recv(p->nl_fd, p->nl_buffer, sizeof p->nl_buffer, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        link_resync(p);
        continue;
      }
      return;
    }
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)p->nl_buffer; NLMSG_OK(h, len) && !p->closed; h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) continue;
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) continue;
      const struct ifinfomsg *ifi = NLMSG_DATA(h);
      if (ifi->ifi_index != p->ifindex) continue;
      link_update(p, h->nlmsg_type == RTM_DELLINK ? 0 : ifi->ifi_flags);
    }
  }
}

/* ---------- receive ring ---------- */

/* One packet in the ring, as either ring version describes it. */
typedef struct {
  const uint8_t *mac;           /* first byte of the frame */
  uint32_t len, snaplen;        /* bytes on the wire, bytes in the ring */
  uint32_t status;              /* TP_STATUS_* of the packet */
  uint16_t vlan_tci, vlan_tpid;
  uint8_t pkttype;              /* sll_pkttype */
} ring_packet;

/* Where receive() puts frames: slot first + n at slot_size * slot + headroom, at most cap bytes. */
typedef struct {
  uint8_t *bytes;
  int32_t *start, *length;
  int32_t first, slot_size, headroom;
  uint32_t cap;
} rx_target;

/* The sockaddr_ll follows the ring version's header (packet_mmap.rst, "Frame structure"). */
static uint8_t packet_type(const void *hdr, size_t hdr_bytes) {
  return ((const struct sockaddr_ll *)((const uint8_t *)hdr + TPACKET_ALIGN(hdr_bytes)))->sll_pkttype;
}

/* Copies a packet to dst (capacity cap); returns its length, or 0 when it does not fit (truncated). */
static uint32_t copy_frame(const ring_packet *f, uint8_t *dst, uint32_t cap) {
  bool tagged = (f->status & TP_STATUS_VLAN_VALID) != 0;
  uint32_t len = f->len + (tagged ? VLAN_TAG_BYTES : 0);
  if (f->snaplen < f->len || len > cap || f->snaplen < MAC_ADDRESSES_BYTES) return 0;
  if (!tagged) {
    memcpy(dst, f->mac, f->snaplen);
    return len;
  }
  /* IEEE 802.1Q: the tag sits between the source MAC and the EtherType. */
  uint16_t tpid = (f->status & TP_STATUS_VLAN_TPID_VALID) ? f->vlan_tpid : ETH_P_8021Q;
  memcpy(dst, f->mac, MAC_ADDRESSES_BYTES);
  dst[12] = tpid >> 8;
  dst[13] = tpid & 0xff;
  dst[14] = f->vlan_tci >> 8;
  dst[15] = f->vlan_tci & 0xff;
  memcpy(dst + MAC_ADDRESSES_BYTES + VLAN_TAG_BYTES, f->mac + MAC_ADDRESSES_BYTES, f->snaplen - MAC_ADDRESSES_BYTES);
  return len;
}

/* Puts a packet in slot t->first + n unless it is one we sent or does not fit; returns 1 when it was placed. */
static int32_t take_packet(port *p, const ring_packet *f, const rx_target *t, int32_t n) {
  if (f->pkttype == PACKET_OUTGOING) return 0;
  int32_t slot = t->first + n;
  int32_t offset = slot * t->slot_size + t->headroom;
  uint32_t len = copy_frame(f, t->bytes + offset, t->cap);
  if (len == 0) {
    p->counters.rx_truncated++;
    return 0;
  }
  t->start[slot] = offset;
  t->length[slot] = (int32_t)len;
  p->counters.rx_frames++;
  p->counters.rx_bytes += len;
  return 1;
}

/* V2: next unread ring frame, or NULL while the kernel still owns it. */
static struct tpacket2_hdr *v2_peek(const port *p) {
  struct tpacket2_hdr *h = (struct tpacket2_hdr *)(p->ring + (size_t)p->next_frame * p->frame_bytes);
  return (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) ? h : NULL;
}

static int32_t v2_receive(port *p, const rx_target *t, int32_t max) {
  int32_t n = 0;
  struct tpacket2_hdr *h;
  while (n < max && (h = v2_peek(p)) != NULL) {
    ring_packet f = {
        .mac = (const uint8_t *)h + h->tp_mac, .len = h->tp_len, .snaplen = h->tp_snaplen, .status = h->tp_status,
        .vlan_tci = h->tp_vlan_tci, .vlan_tpid = h->tp_vlan_tpid, .pkttype = packet_type(h, sizeof *h),
    };
    n += take_packet(p, &f, t, n);
    /* Hands the frame back to the kernel. */
    __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    p->next_frame = (p->next_frame + 1) % p->frame_count;
  }
  return n;
}

static struct tpacket_block_desc *v3_block(const port *p) {
  return (struct tpacket_block_desc *)(p->ring + (size_t)p->next_block * p->block_bytes);
}

/* V3: whether the kernel has handed next_block over (retired it: full or timed out). */
static bool v3_block_ready(const port *p) {
  return (__atomic_load_n(&v3_block(p)->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) != 0;
}

/* Hands next_block back to the kernel and moves on. */
static void v3_release_block(port *p) {
  __atomic_store_n(&v3_block(p)->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
  p->next_block = (p->next_block + 1) % p->block_count;
  p->block_left = 0;
}

/* V3: makes block_packet the next unread packet, opening the next handed-over block when the last one is done (and
   handing back empty ones); false when there is none. */
static bool v3_open(port *p) {
  for (uint32_t i = 0; i < p->block_count && p->block_left == 0; i++) {
    if (!v3_block_ready(p)) return false;
    const struct tpacket_block_desc *b = v3_block(p);
    p->block_left = b->hdr.bh1.num_pkts;
    p->block_packet = (const uint8_t *)b + b->hdr.bh1.offset_to_first_pkt;
    if (p->block_left == 0) v3_release_block(p);
  }
  return p->block_left > 0;
}

/* Packets are read by tp_next_offset; a block goes back once all its packets were read, so a call that stops at max
   leaves the block open and the next call goes on where it stopped. */
static int32_t v3_receive(port *p, const rx_target *t, int32_t max) {
  int32_t n = 0;
  while (n < max && v3_open(p)) {
    const struct tpacket3_hdr *h = (const struct tpacket3_hdr *)p->block_packet;
    ring_packet f = {
        .mac = (const uint8_t *)h + h->tp_mac, .len = h->tp_len, .snaplen = h->tp_snaplen, .status = h->tp_status,
        .vlan_tci = h->hv1.tp_vlan_tci, .vlan_tpid = h->hv1.tp_vlan_tpid, .pkttype = packet_type(h, sizeof *h),
    };
    n += take_packet(p, &f, t, n);
    if (--p->block_left == 0) {
      v3_release_block(p);
    } else {
      p->block_packet += h->tp_next_offset;
    }
  }
  return n;
}

static bool rx_pending(const port *p) {
  if (p->ring_version == TPACKET_V3) return p->block_left > 0 || v3_block_ready(p);
  return v2_peek(p) != NULL;
}

static void read_kernel_drops(port *p) {
  union tpacket_stats_u st;
  socklen_t len = sizeof st;
  /* PACKET_STATISTICS resets on read, so accumulate; a V3 socket fills struct tpacket_stats_v3. */
  if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
    p->counters.rx_kernel_drops += p->ring_version == TPACKET_V3 ? st.stats3.tp_drops : st.stats1.tp_drops;
  }
}

static void on_rx_poll(uv_poll_t *handle, int status, int events) {
  port *p = handle->data;
  if (status < 0) {
    clear_socket_error(p->fd);
    uv_poll_start(handle, UV_READABLE, on_rx_poll);
  }
  if (p->on_readable != NULL && rx_pending(p)) call_js(p, p->on_readable, -1);
}

static void on_rx_idle(uv_idle_t *handle) {
  port *p = handle->data;
  if (p->on_readable != NULL && rx_pending(p)) call_js(p, p->on_readable, -1);
}

/* ---------- open / close ---------- */

static void release_kernel_resources(port *p) {
  if (p->ring != NULL) munmap(p->ring, p->ring_bytes);
  if (p->fd >= 0) close(p->fd);
  if (p->nl_fd >= 0) close(p->nl_fd);
  p->ring = NULL;
  p->fd = p->nl_fd = -1;
}

/* Lets env teardown go on once nothing of ours is left in the event loop. */
static void release_cleanup_hook(port *p) {
  if (p->cleanup_hook == NULL) return;
  napi_remove_async_cleanup_hook(p->cleanup_hook);
  p->cleanup_hook = NULL;
}

static void on_handle_closed(uv_handle_t *handle) {
  port *p = handle->data;
  if (--p->pending_closes > 0) return;
  release_cleanup_hook(p);
  if (p->finalized) free(p);
}

static void close_handle(port *p, unsigned bit, uv_handle_t *handle) {
  if (!(p->open_handles & bit)) return;
  p->open_handles &= ~bit;
  p->pending_closes++;
  uv_close(handle, on_handle_closed);
}

static void port_close(port *p) {
  if (p->closed) return;
  p->closed = true;
  napi_env env = p->env;
  if (p->fd >= 0) read_kernel_drops(p);
  if (p->on_readable != NULL) napi_delete_reference(env, p->on_readable);
  if (p->on_link != NULL) napi_delete_reference(env, p->on_link);
  p->on_readable = p->on_link = NULL;
  if (p->async_context != NULL) napi_async_destroy(env, p->async_context);
  p->async_context = NULL;
  /* uv_close takes the fds out of epoll at once, so they can be closed right after. */
  close_handle(p, HANDLE_RX_POLL, (uv_handle_t *)&p->rx_poll);
  close_handle(p, HANDLE_RX_IDLE, (uv_handle_t *)&p->rx_idle);
  close_handle(p, HANDLE_LINK_POLL, (uv_handle_t *)&p->link_poll);
  release_kernel_resources(p);
  if (p->pending_closes == 0) release_cleanup_hook(p);
}

/* Env teardown (process exit, worker termination) with the port still open. */
static void on_env_teardown(napi_async_cleanup_hook_handle handle, void *arg) { port_close(arg); }

static void port_finalize(napi_env env, void *data, void *hint) {
  port *p = data;
  p->finalized = true;
  port_close(p);
  if (p->pending_closes == 0) free(p);
}

/* Reads (ETHTOOL_G*) or writes (ETHTOOL_S*) one ethtool value of the interface; false when that fails. */
static bool ethtool_value(const port *p, uint32_t cmd, uint32_t *data) {
  struct ifreq ifr;
  struct ethtool_value ev = {.cmd = cmd, .data = *data};
  if (!ifreq_by_index(p, &ifr)) return false;
  ifr.ifr_data = (void *)&ev;
  if (ioctl(p->fd, SIOCETHTOOL, &ifr) != 0) return false;
  *data = ev.data;
  return true;
}

static bool gro_on(const port *p, uint32_t *gro) { return ethtool_value(p, ETHTOOL_GGRO, gro) && *gro; }

static bool lro_on(const port *p, uint32_t *flags) {
  return ethtool_value(p, ETHTOOL_GFLAGS, flags) && (*flags & ETH_FLAG_LRO);
}

/* Best effort: GRO/LRO would hand us frames bigger than the MTU. Returns whether either is still on. */
static bool receive_offloads_on(const port *p) {
  uint32_t gro = 0, flags = 0;
  return gro_on(p, &gro) || lro_on(p, &flags);
}

static void disable_receive_offloads(const port *p) {
  uint32_t gro = 0, flags = 0;
  if (gro_on(p, &gro)) {
    gro = 0;
    ethtool_value(p, ETHTOOL_SGRO, &gro);
  }
  if (lro_on(p, &flags)) {
    flags &= ~(uint32_t)ETH_FLAG_LRO;
    ethtool_value(p, ETHTOOL_SFLAGS, &flags);
  }
}

/* ioctl(request) on the interface named in ifr; throws "interface 'name': cannot read <what>" when it fails. */
static bool read_ifreq(napi_env env, const port *p, unsigned long request, struct ifreq *ifr, const char *name,
                       const char *what) {
  if (ioctl(p->fd, request, ifr) == 0) return true;
  throw_error(env, E_SYSTEM_ERROR, "interface '%s': cannot read %s: %s", name, what, strerror(errno));
  return false;
}

static bool set_int_option(napi_env env, const port *p, int level, int name, int value, const char *what) {
  if (setsockopt(p->fd, level, name, &value, sizeof value) == 0) return true;
  throw_error(env, is_permission_error(errno) ? E_PERMISSION_DENIED : E_SYSTEM_ERROR,
              "interface '%s': setting %s failed: %s", p->ifname, what, strerror(errno));
  return false;
}

typedef struct {
  const char *netns;
  uint32_t frame_bytes, frame_count;
  int ring_version;             /* TPACKET_V2 or TPACKET_V3 */
  bool busy_poll;
  uint32_t mark;                /* SO_MARK of every frame sent; 0: none */
} port_options;

/* The rxRing option's values, in the order of RX_RING_VERSIONS (mirrored by RX_RINGS in src/io/native-frame-io.ts). */
static const char *const RX_RING_NAMES[] = {"v2", "v3"};
static const int RX_RING_VERSIONS[] = {TPACKET_V2, TPACKET_V3};

static bool setup_rx_ring(napi_env env, port *p, const port_options *o) {
  bool v3 = o->ring_version == TPACKET_V3;
  if (!set_int_option(env, p, SOL_PACKET, PACKET_VERSION, o->ring_version,
                      v3 ? "PACKET_VERSION TPACKET_V3" : "PACKET_VERSION TPACKET_V2")) {
    return false;
  }
  p->ring_version = o->ring_version;
  /* The kernel needs a whole number of pages per block and of frames per block. V2: blocks of one page (or one frame
     when frames are bigger), as single pages never fail on a fragmented system. V3: blocks of V3_FRAMES_PER_BLOCK
     frames' worth of pages, which it fills with packets of any length one after the other (a ring frame is only a
     unit of size there); the same ringFrames x ringFrameBytes of memory either way. */
  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  uint64_t wanted = v3 ? ((uint64_t)V3_FRAMES_PER_BLOCK * o->frame_bytes + page - 1) / page * page
                       : (o->frame_bytes > page ? o->frame_bytes : page);
  if (wanted > UINT32_MAX) {
    throw_error(env, E_INVALID_ARGUMENT, "interface '%s': ring frames of %u bytes make a TPACKET_V3 block too big: use "
                "smaller frames (ringFrameBytes)", p->ifname, o->frame_bytes);
    return false;
  }
  uint32_t block_bytes = (uint32_t)wanted;
  uint32_t frames_per_block = block_bytes / o->frame_bytes;
  uint32_t blocks = (o->frame_count + frames_per_block - 1) / frames_per_block;
  struct tpacket_req3 req = {
      .tp_block_size = block_bytes,
      .tp_block_nr = blocks,
      .tp_frame_size = o->frame_bytes,
      .tp_frame_nr = blocks * frames_per_block,
      .tp_retire_blk_tov = v3 ? V3_RETIRE_MS : 0,
  };
  /* struct tpacket_req is the start of struct tpacket_req3. */
  socklen_t req_len = v3 ? sizeof(struct tpacket_req3) : sizeof(struct tpacket_req);
  if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req, req_len) < 0) {
    throw_error(env, E_SYSTEM_ERROR, "interface '%s': the kernel refused a receive ring of %u frames of %u bytes (%s): "
                "use fewer or smaller frames (ringFrames, ringFrameBytes)", p->ifname, req.tp_frame_nr,
                o->frame_bytes, strerror(errno));
    return false;
  }
  p->frame_bytes = o->frame_bytes;
  p->frame_count = req.tp_frame_nr;
  p->block_bytes = block_bytes;
  p->block_count = blocks;
  p->ring_bytes = (size_t)block_bytes * blocks;
  void *ring = mmap(NULL, p->ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, p->fd, 0);
  if (ring == MAP_FAILED) {
    throw_error(env, E_SYSTEM_ERROR, "interface '%s': mapping the %zu-byte receive ring failed (%s): use a smaller ring",
                p->ifname, p->ring_bytes, strerror(errno));
    return false;
  }
  p->ring = ring;
  return true;
}

/* Creates the sockets (inside netns if given), binds, sets up the ring. Throws and returns false on failure. */
static bool port_open_kernel(napi_env env, port *p, const port_options *o) {
  int saved_netns;
  if (!enter_netns(env, o->netns, &saved_netns)) return false;
  /* Protocol 0: nothing is queued until bind() names the interface and ETH_P_ALL. */
  p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int packet_errno = errno;
  p->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  int netlink_errno = errno;
  leave_netns(saved_netns);
  if (p->fd < 0) {
    if (is_permission_error(packet_errno)) {
      throw_error(env, E_PERMISSION_DENIED, "opening interface '%s' needs CAP_NET_RAW: run as root or grant "
                  "CAP_NET_RAW and CAP_NET_ADMIN", p->ifname);
    } else {
      throw_error(env, E_SYSTEM_ERROR, "cannot create a packet socket: %s", strerror(packet_errno));
    }
    return false;
  }
  if (p->nl_fd < 0) {
    throw_error(env, E_SYSTEM_ERROR, "cannot create the link-state netlink socket: %s", strerror(netlink_errno));
    return false;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, p->ifname, sizeof p->ifname);
  if (ioctl(p->fd, SIOCGIFINDEX, &ifr) < 0) {
    throw_error(env, E_INTERFACE_NOT_FOUND, "interface '%s' not found%s%s: check the name with 'ip link'", p->ifname,
                o->netns[0] ? " in network namespace " : "", o->netns);
    return false;
  }
  p->ifindex = ifr.ifr_ifindex;

  struct sockaddr_nl nl = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
  if (bind(p->nl_fd, (struct sockaddr *)&nl, sizeof nl) < 0) {
    throw_error(env, E_SYSTEM_ERROR, "cannot subscribe to link notifications: %s", strerror(errno));
    return false;
  }
  if (!setup_rx_ring(env, p, o)) return false;
  if (!set_int_option(env, p, SOL_PACKET, PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS")) return false;
  /* The mark lets a netfilter egress rule tell our frames from the host stack's (src/io/host-stack-isolation.ts). */
  if (o->mark != 0 && !set_int_option(env, p, SOL_SOCKET, SO_MARK, (int)o->mark, "SO_MARK (needs CAP_NET_ADMIN)")) {
    return false;
  }
  /* Our own transmitted frames must not come back; kernels before 4.20 lack the option, and receive() also skips
     PACKET_OUTGOING frames. */
  int one = 1;
  setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  int sndbuf = SEND_BUFFER_BYTES;
  if (setsockopt(p->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0) {
    setsockopt(p->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  }
  struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = p->ifindex};
  if (bind(p->fd, (struct sockaddr *)&ll, sizeof ll) < 0) {
    throw_error(env, E_SYSTEM_ERROR, "cannot bind to interface '%s': %s", p->ifname, strerror(errno));
    return false;
  }
  struct packet_mreq mr = {.mr_ifindex = p->ifindex, .mr_type = PACKET_MR_PROMISC};
  if (setsockopt(p->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) {
    throw_error(env, is_permission_error(errno) ? E_PERMISSION_DENIED : E_SYSTEM_ERROR,
                "cannot put interface '%s' in promiscuous mode: %s", p->ifname, strerror(errno));
    return false;
  }
  disable_receive_offloads(p);
  if (!read_ifreq(env, p, SIOCGIFFLAGS, &ifr, p->ifname, "the flags")) return false;
  p->link_up = flags_link_up((unsigned short)ifr.ifr_flags);
  return true;
}

static bool port_open_handles(napi_env env, port *p, napi_value this_arg) {
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return false;
  p->rx_poll.data = p->rx_idle.data = p->link_poll.data = p;
  if (napi_add_async_cleanup_hook(env, on_env_teardown, p, &p->cleanup_hook) != napi_ok) return false;
  if (uv_poll_init(loop, &p->rx_poll, p->fd) != 0) {
    throw_error(env, E_SYSTEM_ERROR, "interface '%s': cannot watch the packet socket", p->ifname);
    return false;
  }
  p->open_handles |= HANDLE_RX_POLL;
  if (uv_poll_init(loop, &p->link_poll, p->nl_fd) != 0) {
    throw_error(env, E_SYSTEM_ERROR, "interface '%s': cannot watch the netlink socket", p->ifname);
    return false;
  }
  p->open_handles |= HANDLE_LINK_POLL;
  uv_idle_init(loop, &p->rx_idle);
  p->open_handles |= HANDLE_RX_IDLE;
  /* Link monitoring alone does not keep the process alive; a readable callback does. */
  uv_poll_start(&p->link_poll, UV_READABLE, on_link_poll);
  uv_unref((uv_handle_t *)&p->link_poll);
  napi_value name;
  return napi_create_string_utf8(env, "redblack:FramePort", NAPI_AUTO_LENGTH, &name) == napi_ok &&
         napi_async_init(env, this_arg, name, &p->async_context) == napi_ok;
}

/* Reads up to *argc arguments of a method call into argv (none when argv is NULL) and returns the port, or NULL with a
   JS error thrown when `this` is not an open NativeFramePort. */
static port *open_port_call(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value this_arg;
  CHECK_NAPI(env, E_SYSTEM_ERROR, napi_get_cb_info(env, info, argc, argv, &this_arg, NULL));
  port *p;
  if (napi_unwrap(env, this_arg, (void **)&p) != napi_ok) {
    throw_error(env, E_INVALID_ARGUMENT, "not a NativeFramePort");
    return NULL;
  }
  if (p->closed) {
    throw_error(env, E_PORT_CLOSED, "port on interface '%s' is closed: open a new FramePort", p->ifname);
    return NULL;
  }
  return p;
}

/* The bytes, start and length arrays of a FrameSlots: the first three arguments of receive() and send(). */
typedef struct {
  uint8_t *bytes;
  int32_t *start, *length;
  size_t bytes_len, start_len, length_len;
} frame_slots;

static bool get_frame_slots(napi_env env, const napi_value *argv, frame_slots *s) {
  return get_typed_array(env, argv[0], napi_uint8_array, E_INVALID_ARGUMENT, "bytes", (void **)&s->bytes,
                         &s->bytes_len) &&
         get_typed_array(env, argv[1], napi_int32_array, E_INVALID_ARGUMENT, "start", (void **)&s->start,
                         &s->start_len) &&
         get_typed_array(env, argv[2], napi_int32_array, E_INVALID_ARGUMENT, "length", (void **)&s->length,
                         &s->length_len);
}

/* ---------- JS methods ---------- */

/* new NativeFramePort(ifname, { netns, ringFrames, ringFrameBytes, rxRing, busyPoll, mark }) */
static napi_value port_new(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], this_arg;
  CHECK_NAPI(env, E_SYSTEM_ERROR, napi_get_cb_info(env, info, &argc, argv, &this_arg, NULL));
  char ifname[IFNAMSIZ + 1];
  size_t ifname_len;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], ifname, sizeof ifname, &ifname_len) != napi_ok) {
    throw_error(env, E_INVALID_ARGUMENT, "interface name must be a string");
    return NULL;
  }
  if (ifname_len == 0 || ifname_len >= IFNAMSIZ) {
    throw_error(env, E_INVALID_ARGUMENT, "interface name '%s' must be 1 to %d characters", ifname, IFNAMSIZ - 1);
    return NULL;
  }
  char netns[PATH_MAX] = "";
  napi_value v;
  napi_valuetype t;
  CHECK_NAPI(env, E_SYSTEM_ERROR, napi_get_named_property(env, argv[1], "netns", &v));
  CHECK_NAPI(env, E_SYSTEM_ERROR, napi_typeof(env, v, &t));
  if (t == napi_string) CHECK_NAPI(env, E_SYSTEM_ERROR, napi_get_value_string_utf8(env, v, netns, sizeof netns, NULL));
  port_options o = {.netns = netns};
  if (!get_option_uint32(env, argv[1], "ringFrames", 1, &o.frame_count) ||
      !get_option_uint32(env, argv[1], "ringFrameBytes", 1, &o.frame_bytes) ||
      !get_option_uint32(env, argv[1], "mark", 0, &o.mark)) {
    return NULL;
  }
  size_t ring;
  CHECK_NAPI(env, E_SYSTEM_ERROR, napi_get_named_property(env, argv[1], "rxRing", &v));
  if (!get_choice(env, v, E_INVALID_ARGUMENT, "option rxRing", RX_RING_NAMES,
                  sizeof RX_RING_NAMES / sizeof RX_RING_NAMES[0], &ring)) {
    return NULL;
  }
  o.ring_version = RX_RING_VERSIONS[ring];
  CHECK_NAPI(env, E_SYSTEM_ERROR, napi_get_named_property(env, argv[1], "busyPoll", &v));
  if (!get_bool(env, v, E_INVALID_ARGUMENT, "option busyPoll", &o.busy_poll)) return NULL;

  port *p = calloc(1, sizeof *p);
  if (p == NULL) {
    throw_error(env, E_SYSTEM_ERROR, "out of memory opening interface '%s'", ifname);
    return NULL;
  }
  p->env = env;
  p->fd = p->nl_fd = -1;
  p->busy_poll = o.busy_poll;
  memcpy(p->ifname, ifname, ifname_len);
  for (int i = 0; i < TX_CHUNK; i++) {
    p->msgs[i].msg_hdr.msg_iov = &p->iov[i];
    p->msgs[i].msg_hdr.msg_iovlen = 1;
  }
  if (!port_open_kernel(env, p, &o)) {
    release_kernel_resources(p);
    free(p);
    return NULL;
  }
  if (napi_wrap(env, this_arg, p, port_finalize, NULL, NULL) != napi_ok) {
    release_kernel_resources(p);
    free(p);
    throw_error(env, E_SYSTEM_ERROR, "frame I/O: cannot wrap the port object");
    return NULL;
  }
  if (!port_open_handles(env, p, this_arg)) {
    port_close(p); /* the finalizer frees p */
    bool pending;
    napi_is_exception_pending(env, &pending);
    if (!pending) throw_error(env, E_SYSTEM_ERROR, "interface '%s': cannot attach to the event loop", ifname);
    return NULL;
  }
  return this_arg;
}

/* receive(bytes, start, length, slotSize, headroom, firstSlot, maxFrames) -> frames placed in slots firstSlot.. */
static napi_value port_receive(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  port *p = open_port_call(env, info, &argc, argv);
  if (p == NULL) return NULL;
  frame_slots s;
  int64_t slot_size, headroom, first, max;
  if (argc < 7 || !get_frame_slots(env, argv, &s) ||
      !get_integer(env, argv[3], E_INVALID_ARGUMENT, "slotSize", 1, INT32_MAX, &slot_size) ||
      !get_integer(env, argv[4], E_INVALID_ARGUMENT, "headroom", 0, INT32_MAX, &headroom) ||
      !get_integer(env, argv[5], E_INVALID_ARGUMENT, "firstSlot", 0, INT32_MAX, &first) ||
      !get_integer(env, argv[6], E_INVALID_ARGUMENT, "maxFrames", 0, INT32_MAX, &max)) {
    return NULL;
  }
  if (headroom >= slot_size) {
    throw_range_error(env, E_INVALID_ARGUMENT, "receive: headroom %lld must be below slotSize %lld", (long long)headroom,
                      (long long)slot_size);
    return NULL;
  }
  int64_t end = first + max;
  if (end > (int64_t)s.start_len || end > (int64_t)s.length_len ||
      end * slot_size > (int64_t)s.bytes_len || end * slot_size > INT32_MAX) {
    throw_error(env, E_INVALID_ARGUMENT,
                "receive: slots %lld..%lld do not fit the FrameSlots buffer: lower firstSlot or maxFrames",
                (long long)first, (long long)end - 1);
    return NULL;
  }
  rx_target t = {
      .bytes = s.bytes, .start = s.start, .length = s.length, .first = (int32_t)first, .slot_size = (int32_t)slot_size,
      .headroom = (int32_t)headroom, .cap = (uint32_t)(slot_size - headroom),
  };
  int32_t n = p->ring_version == TPACKET_V3 ? v3_receive(p, &t, (int32_t)max) : v2_receive(p, &t, (int32_t)max);
  napi_value result;
  CHECK_NAPI(env, E_SYSTEM_ERROR, napi_create_int32(env, n, &result));
  return result;
}

/* Sends p->msgs[0..n) and returns how many went out; the others count as tx errors. Sets *stop when the socket or
   device cannot take more right now or the link is gone (the caller then gives up on the rest of the list). */
static int send_chunk(port *p, int n, bool *stop) {
  int off = 0, sent = 0;
  bool cleared = false;
  while (off < n) {
    int r = sendmmsg(p->fd, &p->msgs[off], (unsigned)(n - off), MSG_DONTWAIT);
    if (r > 0) {
      for (int k = off; k < off + r; k++) p->counters.tx_bytes += p->msgs[k].msg_len;
      p->counters.tx_frames += (uint64_t)r;
      sent += r;
      off += r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && !cleared) {
      /* The send may have failed on an error left pending on the socket (ENETDOWN after the link went down and came
         back), not on this frame: clear it and try the frame once more. */
      clear_socket_error(p->fd);
      cleared = true;
      continue;
    }
    int e = errno;
    if (r < 0 && (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == ENETDOWN || e == ENXIO)) {
      p->counters.tx_errors += (uint64_t)(n - off);
      *stop = true;
      return sent;
    }
    /* Frame msgs[off] is refused on its own (e.g. EMSGSIZE: longer than the MTU allows); skip it. */
    p->counters.tx_errors++;
    off++;
  }
  return sent;
}

/* send(bytes, start, length, slotList, count) -> frames sent */
static napi_value port_send(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  port *p = open_port_call(env, info, &argc, argv);
  if (p == NULL) return NULL;
  frame_slots s;
  size_t list_len;
  int64_t count;
  if (argc < 5 || !get_frame_slots(env, argv, &s) ||
      !get_integer(env, argv[4], E_INVALID_ARGUMENT, "count", 0, INT32_MAX, &count)) {
    return NULL;
  }
  napi_typedarray_type list_type;
  void *list;
  /* napi_get_typedarray_info fails on anything but a typed array. */
  if (napi_get_typedarray_info(env, argv[3], &list_type, &list_len, &list, NULL, NULL) != napi_ok ||
      (list_type != napi_uint16_array && list_type != napi_int32_array)) {
    throw_type_error(env, E_INVALID_ARGUMENT, "slotList must be a Uint16Array or an Int32Array of slot indexes");
    return NULL;
  }
  if ((size_t)count > list_len) {
    throw_error(env, E_INVALID_ARGUMENT, "send: count %lld is outside the slot list of %zu entries", (long long)count,
                list_len);
    return NULL;
  }
  size_t slots = s.start_len < s.length_len ? s.start_len : s.length_len;
  int32_t sent = 0, queued = 0;
  bool stop = false;
  for (int32_t i = 0; i < count && !stop; i++) {
    int64_t idx = list_type == napi_uint16_array ? ((uint16_t *)list)[i] : ((int32_t *)list)[i];
    if (idx < 0 || (size_t)idx >= slots || s.start[idx] < 0 || s.length[idx] <= 0 ||
        (int64_t)s.start[idx] + s.length[idx] > (int64_t)s.bytes_len) {
      p->counters.tx_errors++; /* a slot that does not hold a frame */
      continue;
    }
    p->iov[queued].iov_base = s.bytes + s.start[idx];
    p->iov[queued].iov_len = (size_t)s.length[idx];
    if (++queued == TX_CHUNK) {
      sent += send_chunk(p, queued, &stop);
      if (stop) p->counters.tx_errors += (uint64_t)(count - 1 - i); /* never queued */
      queued = 0;
    }
  }
  if (queued > 0) sent += send_chunk(p, queued, &stop);
  napi_value result;
  CHECK_NAPI(env, E_SYSTEM_ERROR, napi_create_int32(env, sent, &result));
  return result;
}

/* counters(into: Float64Array) — values in port_counters order; works after close (final values). */
static napi_value port_counters_get(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], this_arg;
  CHECK_NAPI(env, E_SYSTEM_ERROR, napi_get_cb_info(env, info, &argc, argv, &this_arg, NULL));
  port *p;
  CHECK_NAPI(env, E_SYSTEM_ERROR, napi_unwrap(env, this_arg, (void **)&p));
  double *out;
  size_t out_len;
  if (argc < 1 ||
      !get_typed_array(env, argv[0], napi_float64_array, E_INVALID_ARGUMENT, "counters", (void **)&out, &out_len)) {
    return NULL;
  }
  if (out_len < COUNTER_COUNT) {
    throw_error(env, E_INVALID_ARGUMENT, "counters needs a Float64Array of %zu entries", COUNTER_COUNT);
    return NULL;
  }
  if (!p->closed) read_kernel_drops(p);
  const uint64_t *values = (const uint64_t *)&p->counters;
  for (size_t i = 0; i < COUNTER_COUNT; i++) out[i] = (double)values[i];
  return NULL;
}

static bool set_named(napi_env env, napi_value obj, const char *key, napi_value v) {
  return napi_set_named_property(env, obj, key, v) == napi_ok;
}

/* info() -> { name, ifindex, mac, mtu, up, running, receiveOffloads } read now from the kernel. */
static napi_value port_info(napi_env env, napi_callback_info info) {
  port *p = open_port_call(env, info, NULL, NULL);
  if (p == NULL) return NULL;
  struct ifreq ifr;
  if (!ifreq_by_index(p, &ifr)) {
    throw_error(env, E_INTERFACE_NOT_FOUND, "interface '%s' (ifindex %d) no longer exists", p->ifname, p->ifindex);
    return NULL;
  }
  char name[IFNAMSIZ];
  memcpy(name, ifr.ifr_name, IFNAMSIZ);
  if (!read_ifreq(env, p, SIOCGIFFLAGS, &ifr, name, "the flags")) return NULL;
  unsigned flags = (unsigned short)ifr.ifr_flags;
  if (!read_ifreq(env, p, SIOCGIFMTU, &ifr, name, "the MTU")) return NULL;
  int mtu = ifr.ifr_mtu;
  if (!read_ifreq(env, p, SIOCGIFHWADDR, &ifr, name, "the MAC address")) return NULL;
  const uint8_t *m = (const uint8_t *)ifr.ifr_hwaddr.sa_data;
  char mac[18];
  snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  napi_value obj, v;
  CHECK_NAPI(env, E_SYSTEM_ERROR, napi_create_object(env, &obj));
  bool ok = napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v) == napi_ok && set_named(env, obj, "name", v) &&
            napi_create_int32(env, p->ifindex, &v) == napi_ok && set_named(env, obj, "ifindex", v) &&
            napi_create_string_utf8(env, mac, NAPI_AUTO_LENGTH, &v) == napi_ok && set_named(env, obj, "mac", v) &&
            napi_create_int32(env, mtu, &v) == napi_ok && set_named(env, obj, "mtu", v) &&
            napi_get_boolean(env, flags & IFF_UP, &v) == napi_ok && set_named(env, obj, "up", v) &&
            napi_get_boolean(env, flags & IFF_RUNNING, &v) == napi_ok && set_named(env, obj, "running", v) &&
            napi_get_boolean(env, receive_offloads_on(p), &v) == napi_ok && set_named(env, obj, "receiveOffloads", v);
  CHECK_NAPI(env, E_SYSTEM_ERROR, ok ? napi_ok : napi_generic_failure);
  return obj;
}

/* onReadable(cb | null): cb runs when the ring holds frames; it should drain with receive() until 0. */
static napi_value port_on_readable(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  port *p = open_port_call(env, info, &argc, argv);
  if (p == NULL) return NULL;
  if (!set_callback(env, argv[0], &p->on_readable)) return NULL;
  if (p->on_readable == NULL) {
    uv_poll_stop(&p->rx_poll);
    uv_idle_stop(&p->rx_idle);
  } else if (p->busy_poll) {
    uv_idle_start(&p->rx_idle, on_rx_idle);
  } else {
    uv_poll_start(&p->rx_poll, UV_READABLE, on_rx_poll);
  }
  return NULL;
}

/* onLink(cb | null): cb(up) runs on every link up/down transition. */
static napi_value port_on_link(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  port *p = open_port_call(env, info, &argc, argv);
  if (p == NULL) return NULL;
  set_callback(env, argv[0], &p->on_link);
  return NULL;
}

static napi_value port_close_js(napi_env env, napi_callback_info info) {
  napi_value this_arg;
  CHECK_NAPI(env, E_SYSTEM_ERROR, napi_get_cb_info(env, info, NULL, NULL, &this_arg, NULL));
  port *p;
  CHECK_NAPI(env, E_SYSTEM_ERROR, napi_unwrap(env, this_arg, (void **)&p));
  port_close(p);
  return NULL;
}

napi_status frame_io_register(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"receive", NULL, port_receive, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, port_send, NULL, NULL, NULL, napi_default, NULL},
      {"counters", NULL, port_counters_get, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, port_info, NULL, NULL, NULL, napi_default, NULL},
      {"onReadable", NULL, port_on_readable, NULL, NULL, NULL, napi_default, NULL},
      {"onLink", NULL, port_on_link, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, port_close_js, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  napi_status s = napi_define_class(env, "NativeFramePort", NAPI_AUTO_LENGTH, port_new, NULL,
                                    sizeof methods / sizeof methods[0], methods, &cls);
  if (s != napi_ok) return s;
  return napi_set_named_property(env, exports, "NativeFramePort", cls);
}
